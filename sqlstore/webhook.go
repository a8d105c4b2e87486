package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cashier"
)

// Deliveries returns this many at most when the filter asks for none, and
// never more than maxDeliveries.
const (
	defaultDeliveries = 50
	maxDeliveries     = 500
)

// encodeEvents stores an endpoint's event types as a JSON array, [] for none.
func encodeEvents(events []string) (string, error) {
	if len(events) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(events)
	return string(b), err
}

// decodeEvents reads what encodeEvents wrote; [] becomes nil.
func decodeEvents(s string) ([]string, error) {
	var events []string
	if err := json.Unmarshal([]byte(s), &events); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	return events, nil
}

const endpointColumns = "id, url, secret, events, created_at"

func scanEndpoint(s interface{ Scan(...any) error }) (cashier.WebhookEndpoint, error) {
	var e cashier.WebhookEndpoint
	var events string
	if err := s.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.CreatedAt); err != nil {
		return e, err
	}
	e.CreatedAt = e.CreatedAt.UTC()
	var err error
	if e.Events, err = decodeEvents(events); err != nil {
		return e, fmt.Errorf("webhook endpoint %d: decode events: %w", e.ID, err)
	}
	return e, nil
}

func (t *tx) InsertWebhookEndpoint(ctx context.Context, e *cashier.WebhookEndpoint) error {
	events, err := encodeEvents(e.Events)
	if err != nil {
		return fmt.Errorf("insert webhook endpoint: encode events: %w", err)
	}
	id, err := t.insert(ctx, "INSERT INTO webhook_endpoints (url, secret, events, created_at) VALUES (?, ?, ?, ?)",
		e.URL, e.Secret, events, dbTime(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert webhook endpoint: %w", err)
	}
	e.ID = id
	return nil
}

func (t *tx) WebhookEndpoint(ctx context.Context, id int64) (*cashier.WebhookEndpoint, error) {
	e, err := scanEndpoint(t.queryRow(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "webhook endpoint", id)
	}
	return &e, nil
}

// WebhookEndpoints lists every endpoint by id.
func (t *tx) WebhookEndpoints(ctx context.Context) ([]cashier.WebhookEndpoint, error) {
	rows, err := t.query(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	defer rows.Close()
	var list []cashier.WebhookEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("scan webhook endpoint: %w", err)
		}
		list = append(list, e)
	}
	return list, rows.Err()
}

// InsertDelivery writes d and sets its id. The duration is kept in whole
// milliseconds.
func (t *tx) InsertDelivery(ctx context.Context, d *cashier.Delivery) error {
	id, err := t.insert(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, attempt, status_code, error,
		duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		d.EventID, d.EndpointID, d.Attempt, d.StatusCode, d.Error, d.Duration.Milliseconds(), dbTime(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert webhook delivery: %w", err)
	}
	d.ID = id
	return nil
}

// Deliveries lists the deliveries f selects, newest first (by creation time,
// then id): f.Limit of them, 50 when it is 0 or less, 500 at most.
func (t *tx) Deliveries(ctx context.Context, f cashier.DeliveryFilter) ([]cashier.Delivery, error) {
	q := `SELECT id, event_id, endpoint_id, attempt, status_code, error, duration_ms, created_at
		FROM webhook_deliveries WHERE 1 = 1`
	var args []any
	if f.EventID != "" {
		q += " AND event_id = ?"
		args = append(args, f.EventID)
	}
	if f.EndpointID != 0 {
		q += " AND endpoint_id = ?"
		args = append(args, f.EndpointID)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultDeliveries
	case limit > maxDeliveries:
		limit = maxDeliveries
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var list []cashier.Delivery
	for rows.Next() {
		var d cashier.Delivery
		var ms int64
		if err := rows.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.Attempt, &d.StatusCode, &d.Error, &ms, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan webhook delivery: %w", err)
		}
		d.Duration = time.Duration(ms) * time.Millisecond
		d.CreatedAt = d.CreatedAt.UTC()
		list = append(list, d)
	}
	return list, rows.Err()
}
