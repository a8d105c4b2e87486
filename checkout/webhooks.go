package checkout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"

	"cashier"
)

// CreateWebhookEndpoint registers a merchant endpoint for events (all when
// events is empty). Without a secret one is generated; it is returned once.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, rawURL string, events []string, secret string) (*cashier.WebhookEndpoint, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(rawURL) > 2048 {
		return nil, cashier.Errorf(cashier.EINVALID, "url must be an absolute http(s) URL")
	}
	for _, e := range events {
		if !slices.Contains(cashier.EventTypes, e) {
			return nil, cashier.Errorf(cashier.EINVALID, "unknown event type %q: use any of %v", e, cashier.EventTypes)
		}
	}
	if secret == "" {
		var b [24]byte
		rand.Read(b[:])
		secret = "whsec_" + hex.EncodeToString(b[:])
	} else if len(secret) < 16 || len(secret) > 256 {
		return nil, cashier.Errorf(cashier.EINVALID, "secret must be 16 to 256 characters")
	}
	e := &cashier.WebhookEndpoint{URL: u.String(), Secret: secret, Events: events, CreatedAt: s.now()}
	if err := s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertWebhookEndpoint(ctx, e) }); err != nil {
		return nil, err
	}
	return e, nil
}

// WebhookEndpoints lists the endpoints.
func (s *Service) WebhookEndpoints(ctx context.Context) (list []cashier.WebhookEndpoint, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.WebhookEndpoints(ctx)
		return err
	})
	return list, err
}

// Deliveries lists delivery attempts, newest first.
func (s *Service) Deliveries(ctx context.Context, f cashier.DeliveryFilter) (list []cashier.Delivery, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.Deliveries(ctx, f)
		return err
	})
	return list, err
}

// ResendEvent delivers an event again, to one endpoint or (endpointID 0) to
// every endpoint that wants it. The event keeps its id, so receivers that
// deduplicate see it once.
func (s *Service) ResendEvent(ctx context.Context, eventID string, endpointID int64) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		ev, err := tx.Event(ctx, eventID)
		if err != nil {
			return err
		}
		if endpointID == 0 {
			return s.scheduleDeliveries(ctx, tx, ev.ID, ev.Type)
		}
		if _, err := tx.WebhookEndpoint(ctx, endpointID); err != nil {
			return err
		}
		return s.jobs.DeliverEvent(ctx, tx, ev.ID, endpointID)
	})
}

// AdminOrder returns any order, for operators.
func (s *Service) AdminOrder(ctx context.Context, id int64) (o *cashier.Order, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		o, err = tx.Order(ctx, id)
		return err
	})
	return o, err
}

// ClaimIdempotencyKey, FinishIdempotencyKey and DropIdempotencyKey keep the
// records behind Idempotency-Key headers (see the store's documentation).
func (s *Service) ClaimIdempotencyKey(ctx context.Context, rec *cashier.IdempotencyRecord) (existing *cashier.IdempotencyRecord, claimed bool, err error) {
	rec.CreatedAt = s.now()
	err = s.store.Update(ctx, func(tx cashier.Tx) error {
		existing, claimed, err = tx.ClaimIdempotencyKey(ctx, rec)
		return err
	})
	return existing, claimed, err
}

func (s *Service) FinishIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error { return tx.FinishIdempotencyKey(ctx, scope, key, status, body) })
}

// DropIdempotencyKey forgets a key; with a non-zero createdAt only that
// unfinished claim, and it reports whether it did.
func (s *Service) DropIdempotencyKey(ctx context.Context, scope, key string, createdAt time.Time) (dropped bool, err error) {
	err = s.store.Update(ctx, func(tx cashier.Tx) error {
		dropped, err = tx.DropIdempotencyKey(ctx, scope, key, createdAt)
		return err
	})
	return dropped, err
}

// IdempotencyKeyTTL is how long an Idempotency-Key is remembered: at least
// the promised 24 hours.
const IdempotencyKeyTTL = 48 * time.Hour

// PurgeIdempotencyKeys forgets keys older than IdempotencyKeyTTL.
func (s *Service) PurgeIdempotencyKeys(ctx context.Context) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		n, err := tx.PurgeIdempotencyKeys(ctx, s.now().Add(-IdempotencyKeyTTL))
		if err == nil && n > 0 {
			s.log.InfoContext(ctx, "idempotency keys purged", "count", n)
		}
		return err
	})
}

// AdminOrders searches every user's orders, for operators.
func (s *Service) AdminOrders(ctx context.Context, f cashier.OrderFilter) (list []cashier.Order, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.Orders(ctx, f)
		return err
	})
	return list, err
}

// InboundMessages lists the recorded channel messages, for operators.
func (s *Service) InboundMessages(ctx context.Context, f cashier.InboundFilter) (list []cashier.InboundMessage, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.InboundMessages(ctx, f)
		return err
	})
	return list, err
}

// VerifyInbound verifies a recorded message again with the channel as it is
// configured now: evidence for a dispute, or a check after fixing a key.
func (s *Service) VerifyInbound(ctx context.Context, id int64) (*cashier.InboundMessage, *cashier.Notification, error) {
	m, err := s.Inbound(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if m.Method == "QUERY" {
		return m, nil, cashier.Errorf(cashier.EUNPROCESSABLE, "message %d is a channel's answer to a query, not a notification: it carries no signature to verify", id)
	}
	ch, err := s.Channel(m.Channel)
	if err != nil {
		return m, nil, err
	}
	n, err := ch.VerifyNotification(ctx, &cashier.InboundRequest{Method: m.Method, Path: m.Path, Query: m.Query,
		Headers: m.Headers, Body: m.Body})
	return m, n, err
}
