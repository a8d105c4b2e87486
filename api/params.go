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

	"cashier"
)

// params reads a request's parameters from the query and from a form or JSON
// body, so that the seeds' form-posting clients and JSON clients both work. A
// body that is a JSON object is read as JSON even when sent as a form (curl
// -d '{…}'). Every name and value must be text.
func params(r *http.Request) (url.Values, error) {
	v := r.URL.Query()
	if r.Body == nil || r.Method == http.MethodGet {
		return v, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		// ParseMultipartForm drops ParseForm's errors (a body over the
		// limit among them), so it is parsed on its own.
		if err := r.ParseMultipartForm(MaxBodyBytes); err != nil {
			return nil, bodyError(err)
		}
		for k, vals := range r.MultipartForm.Value {
			v[k] = vals
		}
		return v, checkValues("parameter", v)
	}
	if ct != "application/json" && ct != "application/x-www-form-urlencoded" && ct != "" {
		return nil, cashier.Errorf(cashier.EINVALID, "unsupported Content-Type %q: send a form or JSON", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	switch {
	case len(bytes.TrimSpace(body)) == 0:
	case ct == "application/json" || looksLikeJSON(body):
		m, err := decodeJSONObject(body)
		if err != nil {
			return nil, err
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
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, cashier.Errorf(cashier.EINVALID, "the form body is malformed: %s", truncate(err.Error(), 80))
		}
		for k, vals := range form {
			v[k] = vals
		}
	}
	return v, checkValues("parameter", v)
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
	s := v.Get(name)
	if s == "" || s == "0" {
		return 0, nil
	}
	return positive(name, s)
}

// positive parses a positive integer written in plain digits: no sign,
// spaces, exponent or base prefix.
func positive(name, s string) (int64, error) {
	bad := cashier.Errorf(cashier.EINVALID, "%s must be a positive integer in digits, not %q", name, truncate(s, 32))
	if s == "" || len(s) > 18 {
		return 0, bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, bad
	}
	return n, nil
}

// requiredID parses a required positive integer id parameter.
func requiredID(v url.Values, name string) (int64, error) {
	if v.Get(name) == "" {
		return 0, cashier.Errorf(cashier.EINVALID, "%s is required", name)
	}
	return positive(name, v.Get(name))
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
	return positive("id", r.PathValue("id"))
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
