package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"cashier"
)

// Sender delivers events to endpoints and records every attempt.
type Sender struct {
	Store  cashier.Store
	Client *http.Client // its Timeout bounds one delivery; a slow receiver never blocks orders
	Now    func() time.Time
	Logger *slog.Logger
}

// Deliver sends one event to one endpoint. Any answer but 2xx is an error, so
// that the job is retried on its schedule.
func (s *Sender) Deliver(ctx context.Context, eventID string, endpointID int64, attempt int) error {
	var ev *cashier.Event
	var ep *cashier.WebhookEndpoint
	err := s.Store.View(ctx, func(tx cashier.Tx) (err error) {
		if ev, err = tx.Event(ctx, eventID); err != nil {
			return err
		}
		ep, err = tx.WebhookEndpoint(ctx, endpointID)
		return err
	})
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		s.Logger.WarnContext(ctx, "webhook delivery dropped: event or endpoint gone", "event_id", eventID, "endpoint_id", endpointID)
		return nil
	} else if err != nil {
		return err
	}
	start := s.Now()
	status, derr := s.post(ctx, ep, ev, start)
	d := &cashier.Delivery{EventID: ev.ID, EndpointID: ep.ID, Attempt: attempt, StatusCode: status,
		Duration: time.Since(start), CreatedAt: start}
	if derr != nil {
		d.Error = derr.Error()
	}
	if err := s.Store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertDelivery(ctx, d) }); err != nil {
		s.Logger.ErrorContext(ctx, "could not record a webhook delivery", "event_id", ev.ID, "endpoint_id", ep.ID, "err", err)
	}
	if derr != nil {
		s.Logger.WarnContext(ctx, "webhook delivery failed", "event_id", ev.ID, "type", ev.Type, "endpoint_id", ep.ID,
			"attempt", attempt, "status", status, "err", derr)
		return derr
	}
	s.Logger.InfoContext(ctx, "webhook delivered", "event_id", ev.ID, "type", ev.Type, "endpoint_id", ep.ID, "attempt", attempt)
	return nil
}

func (s *Sender) post(ctx context.Context, ep *cashier.WebhookEndpoint, ev *cashier.Event, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(ev.Payload))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cashier-webhooks/1")
	req.Header.Set("Cashier-Event-Id", ev.ID)
	req.Header.Set("Cashier-Event-Type", ev.Type)
	req.Header.Set(SignatureHeader, Sign(ep.Secret, now, ev.Payload))
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}
