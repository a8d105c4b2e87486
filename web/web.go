// Package web holds cashier's pages, embedded in the binary: the admin
// console (a single page built on the admin API), the API viewer, and the
// server-rendered pages (the checkout page, its aggregate QR code's
// landing, the home page, result pages).
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed admin/index.html pages
var files embed.FS

// The pages' Content-Security-Policy: their own scripts and styles only,
// QR codes as data: images, no framing.
const (
	staticCSP   = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'"
	renderedCSP = "default-src 'self'; img-src 'self' data:; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'"
)

// setHeaders sets what every page answers with.
func setHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
}

// static serves an embedded page as it is.
func static(name string) http.Handler {
	page, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setHeaders(w, staticCSP)
		w.Write(page)
	})
}

// Admin serves the admin console. The page holds no data of its own: it asks
// for the admin token and calls the admin API with it.
func Admin() http.Handler { return static("admin/index.html") }

// Docs serves the API viewer, which renders /openapi.json in the browser.
func Docs() http.Handler { return static("pages/docs.html") }

// pages are the server-rendered pages; frame.html has their head and foot.
var pages = template.Must(template.ParseFS(files, "pages/*.html"))

// Render writes page name with data; a page that cannot be rendered is a
// 500 with nothing half-written.
func Render(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return err
	}
	setHeaders(w, renderedCSP)
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}
