package sandbox

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A notification is sent again at each wait until the merchant
// acknowledges it, and then never again; one never acknowledged stops
// after the last wait.
func TestResender(t *testing.T) {
	var calls, ackFrom atomic.Int32
	ackFrom.Store(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) >= ackFrom.Load() {
			io.WriteString(w, "SUCCESS")
			return
		}
		io.WriteString(w, "FAILURE")
	}))
	defer srv.Close()
	log := slog.New(slog.DiscardHandler)
	r := &Resender{After: []time.Duration{time.Minute, 5 * time.Minute, time.Hour}, Acknowledged: func(s string) bool { return s == "SUCCESS" }}
	t0 := time.Now()
	r.Add(&Message{URL: srv.URL}, t0)
	for _, c := range []struct {
		at    time.Duration
		calls int32
	}{{30 * time.Second, 0}, {time.Minute, 1}, {2 * time.Minute, 1}, {5 * time.Minute, 2}, {6 * time.Minute, 2}, {time.Hour, 3}, {48 * time.Hour, 3}} {
		r.Tick(context.Background(), t0.Add(c.at), srv.Client(), log)
		if got := calls.Load(); got != c.calls {
			t.Fatalf("at %v: %d sends, want %d", c.at, got, c.calls)
		}
	}
	if len(r.pending) != 0 {
		t.Errorf("%d notifications still kept after the acknowledgement", len(r.pending))
	}
	ackFrom.Store(1 << 20)
	calls.Store(0)
	r.Add(&Message{URL: srv.URL}, t0)
	for _, at := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 100 * time.Hour} {
		r.Tick(context.Background(), t0.Add(at), srv.Client(), log)
	}
	if calls.Load() != 3 || len(r.pending) != 0 {
		t.Errorf("never acknowledged: %d sends, %d kept; want 3 and none", calls.Load(), len(r.pending))
	}
}
