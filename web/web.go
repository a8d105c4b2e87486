// Package web holds cashier's pages, embedded in the binary: the admin
// console, a single page built on the admin API.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed admin/index.html pages
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

// pages are the server-rendered pages: the checkout page, its aggregate
// QR code's landing, the home page; frame.html has their head and foot.
var pages = template.Must(template.ParseFS(files, "pages/*.html"))

// Render writes page name with data; a page that cannot be rendered is a
// 500 with nothing half-written.
func Render(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// Docs serves the API viewer, which renders /openapi.json in the browser.
func Docs() http.Handler {
	page, err := files.ReadFile("pages/docs.html")
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
		w.Write(page)
	})
}
