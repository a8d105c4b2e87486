package jobs

import (
	"context"
	"log/slog"
	"strings"
)

// routineHandler passes River's log on, with its routine reports (job counts
// every few seconds, cleaners that ran, no migrations to apply) lowered to
// DEBUG: at INFO they drown what an operator needs. The rescuer's report,
// that jobs of a dead process were run again, stays at INFO.
type routineHandler struct{ slog.Handler }

func quietRiver(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	return slog.New(routineHandler{l.Handler()})
}

func routine(msg string) bool {
	switch {
	case strings.Contains(msg, "Producer job counts"), strings.Contains(msg, "No migrations to apply"):
		return true
	case strings.Contains(msg, "Ran successfully"):
		return !strings.Contains(msg, "JobRescuer")
	}
	return false
}

func (h routineHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && routine(r.Message) {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h routineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return routineHandler{h.Handler.WithAttrs(attrs)}
}

func (h routineHandler) WithGroup(name string) slog.Handler {
	return routineHandler{h.Handler.WithGroup(name)}
}
