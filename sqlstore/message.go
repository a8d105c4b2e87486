package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cashier"
)

func (t *tx) InsertInbound(ctx context.Context, m *cashier.InboundMessage) error {
	headers, err := json.Marshal(m.Headers)
	if err != nil {
		return fmt.Errorf("encode headers: %w", err)
	}
	if m.Outcome == "" {
		m.Outcome = cashier.InboundReceived
	}
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	err = t.insertWithCommit(ctx, &m.ID, `INSERT INTO inbound_messages (channel, method, path, query, headers, body, remote_addr,
		received_at, outcome, detail, out_trade_no, verified, body_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Channel, m.Method, m.Path, m.Query, string(headers), body, m.RemoteAddr,
		dbTime(m.ReceivedAt), m.Outcome, m.Detail, m.OutTradeNo, m.Verified, m.BodySize)
	if err != nil {
		return fmt.Errorf("insert inbound message: %w", err)
	}
	return nil
}

const inboundColumns = `id, channel, method, path, query, headers, body, remote_addr, received_at,
	outcome, detail, out_trade_no, verified, body_size`

func scanInbound(s interface{ Scan(...any) error }) (cashier.InboundMessage, error) {
	var m cashier.InboundMessage
	var headers string
	err := s.Scan(&m.ID, &m.Channel, &m.Method, &m.Path, &m.Query, &headers, &m.Body, &m.RemoteAddr, &m.ReceivedAt,
		&m.Outcome, &m.Detail, &m.OutTradeNo, &m.Verified, &m.BodySize)
	if err != nil {
		return m, err
	}
	m.ReceivedAt = m.ReceivedAt.UTC()
	if err := json.Unmarshal([]byte(headers), &m.Headers); err != nil {
		return m, fmt.Errorf("decode headers of inbound message %d: %w", m.ID, err)
	}
	return m, nil
}

func (t *tx) Inbound(ctx context.Context, id int64) (*cashier.InboundMessage, error) {
	m, err := scanInbound(t.queryRow(ctx, "SELECT "+inboundColumns+" FROM inbound_messages WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "inbound message", id)
	}
	return &m, nil
}

func (t *tx) PurgeUnverifiedInbound(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.exec(ctx, "DELETE FROM inbound_messages WHERE NOT verified AND received_at < ?", dbTime(before))
	if err != nil {
		return 0, fmt.Errorf("purge unverified inbound messages: %w", err)
	}
	return n, nil
}

func (t *tx) InboundMessages(ctx context.Context, f cashier.InboundFilter) ([]cashier.InboundMessage, error) {
	q := "SELECT " + inboundColumns + " FROM inbound_messages WHERE 1 = 1"
	var args []any
	for _, c := range []struct{ col, v string }{{"channel", f.Channel}, {"out_trade_no", f.OutTradeNo}, {"outcome", f.Outcome}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.BeforeID > 0 {
		q += " AND id < ?"
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, min(f.Limit, 500))
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list inbound messages: %w", err)
	}
	defer rows.Close()
	var list []cashier.InboundMessage
	for rows.Next() {
		m, err := scanInbound(rows)
		if err != nil {
			return nil, fmt.Errorf("scan inbound message: %w", err)
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

func (t *tx) InsertEvent(ctx context.Context, e *cashier.Event) error {
	err := t.execWithCommit(ctx, "INSERT INTO events (id, type, order_id, payload, created_at, dispatched) VALUES (?, ?, ?, ?, ?, FALSE)",
		e.ID, e.Type, e.OrderID, string(e.Payload), dbTime(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert event %s: %w", e.Type, err)
	}
	return nil
}

const eventColumns = "id, type, order_id, payload, created_at"

func scanEvent(s interface{ Scan(...any) error }) (cashier.Event, error) {
	var e cashier.Event
	var payload string
	err := s.Scan(&e.ID, &e.Type, &e.OrderID, &payload, &e.CreatedAt)
	e.Payload = []byte(payload)
	e.CreatedAt = e.CreatedAt.UTC()
	return e, err
}

func (t *tx) Event(ctx context.Context, id string) (*cashier.Event, error) {
	e, err := scanEvent(t.queryRow(ctx, "SELECT "+eventColumns+" FROM events WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "event", id)
	}
	return &e, nil
}

func (t *tx) EventsByOrder(ctx context.Context, orderID int64) ([]cashier.Event, error) {
	rows, err := t.query(ctx, "SELECT "+eventColumns+" FROM events WHERE order_id = ? ORDER BY created_at, id", orderID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var list []cashier.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		list = append(list, e)
	}
	return list, rows.Err()
}
