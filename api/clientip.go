package api

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type clientIPKey struct{}

// withClientIP finds the buyer's address (WeChat's spbill_create_ip) once per
// request. X-Forwarded-For is believed only as far as it was written by the
// trusted proxies: walking it from the right, the first address that is not a
// trusted proxy is the client. Anyone else can write anything in it.
func withClientIP(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := remoteIP(r.RemoteAddr)
		if isTrusted(ip, trusted) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break
				}
				ip = hop.Unmap()
				if !isTrusted(ip, trusted) {
					break
				}
			}
		}
		addr := ""
		if ip.IsValid() {
			addr = ip.String()
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, addr)))
	})
}

func remoteIP(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the buyer's address found by withClientIP.
func clientIP(r *http.Request) string {
	s, _ := r.Context().Value(clientIPKey{}).(string)
	return s
}
