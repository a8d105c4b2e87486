package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

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
	id, err := t.insert(ctx, `INSERT INTO inbound_messages (channel, method, path, query, headers, body, remote_addr,
		received_at, outcome, detail, out_trade_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Channel, m.Method, m.Path, m.Query, string(headers), body, m.RemoteAddr,
		dbTime(m.ReceivedAt), m.Outcome, m.Detail, m.OutTradeNo)
	if err != nil {
		return fmt.Errorf("insert inbound message: %w", err)
	}
	m.ID = id
	return nil
}

func (t *tx) SetInboundOutcome(ctx context.Context, id int64, outcome, detail, outTradeNo string) error {
	_, err := t.exec(ctx, `UPDATE inbound_messages SET outcome = ?, detail = ?,
		out_trade_no = CASE WHEN ? = '' THEN out_trade_no ELSE ? END WHERE id = ?`,
		outcome, detail, outTradeNo, outTradeNo, id)
	if err != nil {
		return fmt.Errorf("update inbound message %d: %w", id, err)
	}
	return nil
}

func (t *tx) Inbound(ctx context.Context, id int64) (*cashier.InboundMessage, error) {
	var m cashier.InboundMessage
	var headers string
	err := t.queryRow(ctx, `SELECT id, channel, method, path, query, headers, body, remote_addr, received_at,
		outcome, detail, out_trade_no FROM inbound_messages WHERE id = ?`, id).Scan(
		&m.ID, &m.Channel, &m.Method, &m.Path, &m.Query, &headers, &m.Body, &m.RemoteAddr, &m.ReceivedAt,
		&m.Outcome, &m.Detail, &m.OutTradeNo)
	if err != nil {
		return nil, notFound(err, "inbound message", id)
	}
	m.ReceivedAt = m.ReceivedAt.UTC()
	if err := json.Unmarshal([]byte(headers), &m.Headers); err != nil {
		return nil, fmt.Errorf("decode headers of inbound message %d: %w", id, err)
	}
	return &m, nil
}

func (t *tx) InsertEvent(ctx context.Context, e *cashier.Event) error {
	_, err := t.exec(ctx, "INSERT INTO events (id, type, order_id, payload, created_at) VALUES (?, ?, ?, ?, ?)",
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
