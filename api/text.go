package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"cashier"
)

// Text is checked at the edge, the same for both databases: PostgreSQL
// refuses NUL bytes and invalid UTF-8 in text, SQLite would store them, and
// neither belongs in an order. A bad value is a 400 naming its field.

// checkText reports a value that is not text.
func checkText(name, s string) error {
	if !utf8.ValidString(s) {
		return cashier.Errorf(cashier.EINVALID, "%s is not valid UTF-8", name)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return cashier.Errorf(cashier.EINVALID, "%s contains a NUL byte", name)
	}
	return nil
}

// checkValues checks every name and value of a set of parameters.
func checkValues(where string, v url.Values) error {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names) // the same error for the same request
	for _, k := range names {
		if err := checkText(where+" name "+strconv.Quote(truncate(k, 32)), k); err != nil {
			return err
		}
		for _, s := range v[k] {
			if err := checkText(k, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkURL answers 400 to a request whose path or query string is not text,
// before any handler sees it.
func checkURL(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := textURL(r.URL); err != nil {
			writeError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// textURL is the check of checkURL.
func textURL(u *url.URL) error {
	if err := checkText("the path", u.Path); err != nil {
		return err
	}
	if u.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return cashier.Errorf(cashier.EINVALID, "the query string is malformed: %s", truncate(err.Error(), 80))
	}
	return checkValues("query parameter", q)
}

// checkJSONText checks every string of a decoded JSON value, keys included,
// naming the first bad one by its path (standards[0].name).
func checkJSONText(path string, v any) error {
	switch x := v.(type) {
	case string:
		return checkText(path, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := checkText("a field name", k); err != nil {
				return err
			}
			if err := checkJSONText(p, x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkJSONText(path+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeJSONObject decodes a JSON object body: one object, nothing after it,
// valid UTF-8 and no NUL in any string.
func decodeJSONObject(body []byte) (map[string]any, error) {
	if !utf8.Valid(body) {
		return nil, cashier.Errorf(cashier.EINVALID, "the JSON body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // 1000000 must not become "1e+06"
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, cashier.Errorf(cashier.EINVALID, "request body is not a JSON object")
	}
	if err := endOfJSON(dec); err != nil {
		return nil, err
	}
	return m, checkJSONText("", m)
}

// endOfJSON reports data after the first JSON value.
func endOfJSON(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return cashier.Errorf(cashier.EINVALID, "the JSON body has data after its object: send one JSON object")
	}
	return nil
}

// looksLikeJSON reports a body that is a JSON object, whatever its
// Content-Type says: curl -d '{…}' sends one as a form.
func looksLikeJSON(body []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{"))
}

// checkIdempotencyKey allows printable ASCII only: a key is an identifier
// (a UUID, say), stored and compared byte for byte.
func checkIdempotencyKey(key string) error {
	if len(key) > 255 {
		return cashier.Errorf(cashier.EINVALID, "%s is longer than 255 characters", IdempotencyHeader)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return cashier.Errorf(cashier.EINVALID, "%s must be printable ASCII without spaces (a UUID, say)", IdempotencyHeader)
		}
	}
	return nil
}
