package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"cashier/api"
	"cashier/app"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, flags := newFlagSet("serve", getenv, stderr, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	// Port 0 picks a free port: the channels must be told the real one.
	if strings.HasSuffix(cfg.PublicURL, ":0") {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			return fmt.Errorf("listen on debug_addr: %w", err)
		}
		dsrv := &http.Server{Handler: profiler(), ReadHeaderTimeout: 10 * time.Second}
		defer dsrv.Close()
		go dsrv.Serve(dln)
		fmt.Fprintf(stdout, "profiler on http://%s/debug/pprof/\n", dln.Addr())
	}

	fmt.Fprintf(stdout, "cashier is listening on %s (public URL %s, database %s)\n", ln.Addr(), cfg.PublicURL, dbKind(cfg.DB))
	for _, m := range []app.Mode{app.ModeReal, app.ModeDisabled} {
		if names := a.ChannelsIn(m); len(names) > 0 {
			fmt.Fprintf(stdout, "%s channels: %s\n", m, strings.Join(names, ", "))
		}
	}
	if len(a.Sandboxed) > 0 {
		fmt.Fprintf(stdout, "sandbox mode for %s: keys and secrets in %s\n", strings.Join(a.Sandboxed, ", "), cfg.SandboxDir())
	}
	if a.SandboxBesideReal() {
		fmt.Fprintf(stdout, "WARNING: sandboxed channels beside real ones (\"sandbox\": %q): anyone can mark their orders paid\n", app.SandboxBesideReal)
	}
	fmt.Fprintf(stdout, "admin token in %s\n", cfg.AdminTokenPath())
	if a.DevToken() {
		token, err := api.IssueToken(a.JWTSecret, app.DemoUser, time.Now(), 30*24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "development token for user %q (valid 30 days):\n%s\n", app.DemoUser, token)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := a.Stop(shutdownCtx); err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// profiler serves Go's runtime profiles (not the command line, which may
// hold a database password).
func profiler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func dbKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "PostgreSQL"
	}
	return "SQLite " + dsn
}

func newLogger(cfg app.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil || cfg.LogLevel == "" {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
