package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// GET /healthz: the process is up.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readiness is /readyz's answer. It names the sandboxed channels, so that a
// simulator running where real money is taken cannot go unnoticed.
type readiness struct {
	Status            string   `json:"status"`
	SandboxChannels   []string `json:"sandbox_channels"`
	SandboxBesideReal bool     `json:"sandbox_beside_real_channels"`
	Warning           string   `json:"warning,omitempty"`
}

// GET /readyz: the database answers.
func handleReadyz(db interface{ Ping(context.Context) error }, sandboxed []string, besideReal bool, log *slog.Logger) http.Handler {
	ready := readiness{Status: "ready", SandboxChannels: append([]string{}, sandboxed...), SandboxBesideReal: besideReal}
	if besideReal {
		ready.Warning = "sandboxed channels run beside real ones: anyone can mark their orders paid"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "err", err)
			down := ready
			down.Status = "database unreachable"
			writeJSON(w, http.StatusServiceUnavailable, down)
			return
		}
		writeJSON(w, http.StatusOK, ready)
	})
}
