package ipaynow

import (
	"net/url"
	"strings"

	"cashier/internal/signing"
)

// sign is iPayNow's MD5 signature of fields: the sorted non-empty fields but
// those in skip, "&", and the lower-case MD5 of the app key.
func sign(appKey string, fields map[string]string, skip ...string) string {
	return signing.MD5Hex(signing.SortedPairs(fields, skip...) + "&" + signing.MD5Hex(appKey))
}

// verify checks fields' signature in field sig, computed without the fields
// in skip; withSignType says whether signType is signed too. A message of
// 2014 left signType out where today's put it in: the key makes both safe,
// so either is accepted where withSignType is set.
func verify(appKey string, fields map[string]string, sig string, withSignType bool) bool {
	got := fields[sig]
	if got == "" {
		return false
	}
	if signing.EqualHex(sign(appKey, fields, sig), got) && withSignType {
		return true
	}
	return signing.EqualHex(sign(appKey, fields, sig, "signType"), got)
}

// form reads a form body once: values are URL-decoded exactly once, and a
// repeated field is the first value.
func form(body string) (map[string]string, error) {
	values, err := url.ParseQuery(strings.TrimSpace(body))
	if err != nil {
		return nil, err
	}
	fields := make(map[string]string, len(values))
	for k := range values {
		fields[k] = values.Get(k)
	}
	return fields, nil
}

// encode writes fields as a form body.
func encode(fields map[string]string) string {
	v := make(url.Values, len(fields))
	for k, val := range fields {
		v.Set(k, val)
	}
	return v.Encode()
}
