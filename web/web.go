// Package web holds cashier's pages, embedded in the binary: the admin
// console, a single page built on the admin API.
package web

import (
	"embed"
	"net/http"
)

//go:embed admin/index.html
var files embed.FS

// Admin serves the admin console. The page holds no data of its own: it asks
// for the admin token and calls the admin API with it.
func Admin() http.Handler {
	page, err := files.ReadFile("admin/index.html")
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
		w.Write(page)
	})
}
