// Package signing holds what the MD5 signatures of Chinese payment channels
// (iPayNow, Yijie, QuickSDK; WeChat Pay v2's too, which gopay makes) are made
// of: the sorted "k=v&k=v" text of the non-empty fields, and hex digests.
// Channels and their simulators both use it; the public vectors in testdata
// pin it.
package signing

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
)

// SortedPairs joins the fields with a non-empty value, sorted by name, as
// "k=v" with "&", leaving out the names in skip (the signature's own
// fields). Values are taken as they are: decoding them is the caller's.
func SortedPairs(fields map[string]string, skip ...string) string {
	names := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" && !slices.Contains(skip, k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(fields[k])
	}
	return b.String()
}

// MD5Hex is the lower-case hex MD5 of s.
func MD5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// EqualHex compares two hex signatures in constant time, whatever the case
// of their letters.
func EqualHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(a)), []byte(strings.ToLower(b))) == 1
}
