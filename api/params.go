package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"cashier"
)

// params reads a request's parameters from the query and from a form or JSON
// body, so that the seeds' form-posting clients and JSON clients both work.
func params(r *http.Request) (url.Values, error) {
	v := r.URL.Query()
	if r.Body == nil || r.Method == http.MethodGet {
		return v, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, bodyError(err)
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			return v, nil
		}
		// Numbers stay as written: 1000000 must not become "1e+06".
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, cashier.Errorf(cashier.EINVALID, "request body is not a JSON object")
		}
		for k, val := range m {
			switch x := val.(type) {
			case nil:
			case string:
				v.Set(k, x)
			case json.Number:
				v.Set(k, x.String())
			case bool:
				v.Set(k, strconv.FormatBool(x))
			default:
				b, _ := json.Marshal(x)
				v.Set(k, string(b))
			}
		}
		return v, nil
	case "application/x-www-form-urlencoded", "multipart/form-data", "":
		// ParseMultipartForm drops ParseForm's errors (a body over the limit
		// among them), so each kind is parsed by its own call.
		parse := r.ParseForm
		if ct == "multipart/form-data" {
			parse = func() error { return r.ParseMultipartForm(MaxBodyBytes) }
		}
		if err := parse(); err != nil {
			return nil, bodyError(err)
		}
		for k, vals := range r.PostForm {
			v[k] = vals
		}
		return v, nil
	default:
		return nil, cashier.Errorf(cashier.EINVALID, "unsupported Content-Type %q: send a form or JSON", ct)
	}
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return cashier.Errorf(cashier.ETOOLARGE, "request body is larger than %d bytes", mbe.Limit)
	}
	return cashier.Errorf(cashier.EINVALID, "could not read the request body")
}

// optionalID parses an optional positive integer id parameter; "" and "0" mean none.
func optionalID(v url.Values, name string) (int64, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" || s == "0" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, cashier.Errorf(cashier.EINVALID, "%s must be a positive integer, not %q", name, truncate(s, 32))
	}
	return id, nil
}

// requiredID parses a required positive integer id parameter.
func requiredID(v url.Values, name string) (int64, error) {
	if strings.TrimSpace(v.Get(name)) == "" {
		return 0, cashier.Errorf(cashier.EINVALID, "%s is required", name)
	}
	return optionalID(v, name)
}

// requiredIDs parses several required positive integer parameters, in order.
func requiredIDs(v url.Values, names ...string) ([]int64, error) {
	ids := make([]int64, len(names))
	for i, name := range names {
		id, err := requiredID(v, name)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// pathID parses the {id} of a path.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cashier.Errorf(cashier.EINVALID, "id must be a positive integer, not %q", truncate(r.PathValue("id"), 32))
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// page reads the paging parameters of a list: before_id (0: from the newest)
// and limit (def when absent, at most max).
func page(q url.Values, def, max int) (beforeID int64, limit int, err error) {
	if beforeID, err = optionalID(q, "before_id"); err != nil {
		return 0, 0, err
	}
	l, err := optionalID(q, "limit")
	if err != nil || l > int64(max) {
		return 0, 0, cashier.Errorf(cashier.EINVALID, "limit must be an integer from 1 to %d", max)
	}
	if l == 0 {
		return beforeID, def, nil
	}
	return beforeID, int(l), nil
}

// orderFilter reads the filter of an order list: status and paging.
func orderFilter(q url.Values, def, max int) (cashier.OrderFilter, error) {
	f := cashier.OrderFilter{Status: cashier.OrderStatus(q.Get("status"))}
	if !validStatus(f.Status) {
		return f, cashier.Errorf(cashier.EINVALID, "unknown status %q", truncate(string(f.Status), 32))
	}
	var err error
	f.BeforeID, f.Limit, err = page(q, def, max)
	return f, err
}
