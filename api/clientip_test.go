package api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	cases := []struct {
		name, remote, xff, want string
	}{
		{"direct", "203.0.113.7:5000", "", "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5000", "1.2.3.4", "203.0.113.7"},
		{"one trusted proxy", "10.0.0.2:5000", "198.51.100.9", "198.51.100.9"},
		{"spoofed left part skipped", "10.0.0.2:5000", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"two trusted proxies", "127.0.0.1:5000", "198.51.100.9, 10.1.1.1", "198.51.100.9"},
		{"garbage stops the walk", "10.0.0.2:5000", "nonsense", "10.0.0.2"},
		{"IPv6 peer", "[2001:db8::1]:5000", "", "2001:db8::1"},
	}
	for _, c := range cases {
		var got string
		h := withClientIP(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientIP(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
