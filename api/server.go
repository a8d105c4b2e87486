// Package api is cashier's HTTP interface: the order API of seed 004, the
// notification and return endpoints of the channels, and the operations
// endpoints. Handlers are functions returning http.Handler; everything they
// need is passed in explicitly.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"cashier/checkout"
)

// MaxBodyBytes bounds every request body; channel notifications are far smaller.
const MaxBodyBytes = 1 << 20

// Config is what the HTTP server needs.
type Config struct {
	Checkout *checkout.Service
	Auth     *Auth
	Admin    *Admin
	Pinger   interface{ Ping(context.Context) error } // for /readyz
	Logger   *slog.Logger
	// Sandbox, when not nil, serves the simulated channels under /sandbox/.
	Sandbox interface{ Register(*http.ServeMux) }
	// SandboxChannels are the channels that run against their simulators;
	// SandboxBesideReal says that real channels run beside them. /readyz
	// tells both.
	SandboxChannels   []string
	SandboxBesideReal bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Metrics serves /metrics and counts requests; nil: none.
	Metrics Metrics
	// NotifyRejectsPerMinute bounds, per remote address, the notifications
	// that fail verification and are recorded; default 60.
	NotifyRejectsPerMinute int
	// CheckoutLinks make and read the checkout page's links.
	CheckoutLinks CheckoutLinks
	// PublicURL is how browsers reach cashier (the aggregate QR code's link).
	PublicURL string
	// DemoUser, in the demo, is the user of the home page's "try a
	// payment"; empty: no such button.
	DemoUser string
	// ResultURL is where a browser goes after paying on a channel's page;
	// "{order_id}" is replaced. Empty: cashier's own result page.
	ResultURL string
}

// DefaultNotifyRejectsPerMinute is NotifyRejectsPerMinute when not set.
const DefaultNotifyRejectsPerMinute = 60

// NewServer returns the HTTP handler of cashier.
func NewServer(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.NotifyRejectsPerMinute <= 0 {
		cfg.NotifyRejectsPerMinute = DefaultNotifyRejectsPerMinute
	}
	mux := http.NewServeMux()
	addRoutes(mux, cfg)
	var h http.Handler = observe(cfg.Metrics, mux)
	h = checkURL(cfg.Logger, h)
	h = withClientIP(cfg.TrustedProxies, h)
	h = limitBody(h)
	h = recoverPanics(cfg.Logger, h)
	return h
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "panic", p)
				writeError(w, r, log, errInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Metrics is what the server reports to.
type Metrics interface {
	Handler() http.Handler
	ObserveRequest(route string, status int, d time.Duration)
	// ObserveRejected counts a notification rejected for reason.
	ObserveRejected(channel, reason string)
}

type noMetrics struct{}

func (noMetrics) Handler() http.Handler                     { return http.NotFoundHandler() }
func (noMetrics) ObserveRequest(string, int, time.Duration) {}
func (noMetrics) ObserveRejected(string, string)            {}

// observe counts each request under its route pattern (never its raw path:
// ids in paths would make a series per order).
func observe(m Metrics, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, route := mux.Handler(r)
		if route == "" || route == "/" {
			route = "other"
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		mux.ServeHTTP(sw, r)
		m.ObserveRequest(route, sw.status, time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}
