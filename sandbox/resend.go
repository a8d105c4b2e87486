package sandbox

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Resender sends notifications again, as a channel does until the merchant
// acknowledges them: each after the waits of After, counted from the first
// send, until Acknowledged says the reply stops it or the waits run out.
type Resender struct {
	After        []time.Duration
	Acknowledged func(reply string) bool

	mu      sync.Mutex
	pending []*resend
}

type resend struct {
	msg     *Message
	first   time.Time
	attempt int // sends so far
}

// Add keeps m, first sent at, to send again.
func (r *Resender) Add(m *Message, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, &resend{msg: m.Clone(), first: at, attempt: 1})
}

// Tick sends what is due at now, and forgets what was acknowledged or has
// had its last send.
func (r *Resender) Tick(ctx context.Context, now time.Time, client *http.Client, log *slog.Logger) {
	r.mu.Lock()
	var due []*resend
	for _, p := range r.pending {
		if p.attempt <= len(r.After) && !now.Before(p.first.Add(r.After[p.attempt-1])) {
			due = append(due, p)
		}
	}
	r.mu.Unlock()
	for _, p := range due {
		_, reply, err := Deliver(ctx, client, p.msg)
		r.mu.Lock()
		p.attempt++
		if err == nil && r.Acknowledged(reply) {
			p.attempt = len(r.After) + 1
		}
		sent := p.attempt
		r.mu.Unlock()
		log.InfoContext(ctx, "sandbox: notification sent again", "url", p.msg.URL, "attempt", sent, "reply", reply, "err", err)
	}
	r.mu.Lock()
	kept := r.pending[:0]
	for _, p := range r.pending {
		if p.attempt <= len(r.After) {
			kept = append(kept, p)
		}
	}
	r.pending = kept
	r.mu.Unlock()
}
