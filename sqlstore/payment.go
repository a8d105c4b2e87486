package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"cashier"
)

const paymentColumns = `id, order_id, out_trade_no, channel, gateway, amount, status, credential,
	channel_trade_no, product_id, created_at, paid_at, updated_at`

func scanPayment(s interface{ Scan(...any) error }) (cashier.Payment, error) {
	var p cashier.Payment
	var paid sql.NullTime
	var cred string
	err := s.Scan(&p.ID, &p.OrderID, &p.OutTradeNo, &p.Channel, &p.Gateway, &p.Amount, &p.Status, &cred,
		&p.ChannelTradeNo, &p.ProductID, &p.CreatedAt, &paid, &p.UpdatedAt)
	p.Credential = []byte(cred)
	p.CreatedAt, p.UpdatedAt, p.PaidAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC(), fromNull(paid)
	return p, err
}

func (t *tx) InsertPayment(ctx context.Context, p *cashier.Payment) error {
	id, err := t.insert(ctx, `INSERT INTO payments (order_id, out_trade_no, channel, gateway, amount, status,
		credential, channel_trade_no, product_id, created_at, paid_at, updated_at, poll_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.OrderID, p.OutTradeNo, p.Channel, p.Gateway, p.Amount, p.Status,
		string(p.Credential), p.ChannelTradeNo, p.ProductID, dbTime(p.CreatedAt), dbTime(p.PaidAt), dbTime(p.CreatedAt),
		dbTime(p.PollAt))
	if err != nil {
		return fmt.Errorf("insert payment: %w", err)
	}
	p.ID = id
	p.UpdatedAt = p.CreatedAt
	return nil
}

func (t *tx) PaymentByOutTradeNo(ctx context.Context, outTradeNo string) (*cashier.Payment, error) {
	p, err := scanPayment(t.queryRow(ctx, "SELECT "+paymentColumns+" FROM payments WHERE out_trade_no = ?", outTradeNo))
	if err != nil {
		return nil, notFound(err, "payment", outTradeNo)
	}
	return &p, nil
}

func (t *tx) Payment(ctx context.Context, id int64) (*cashier.Payment, error) {
	p, err := scanPayment(t.queryRow(ctx, "SELECT "+paymentColumns+" FROM payments WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "payment", id)
	}
	return &p, nil
}

func (t *tx) PaymentsByOrder(ctx context.Context, orderID int64) ([]cashier.Payment, error) {
	rows, err := t.query(ctx, "SELECT "+paymentColumns+" FROM payments WHERE order_id = ? ORDER BY id", orderID)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	defer rows.Close()
	var list []cashier.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("scan payment: %w", err)
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

func (t *tx) TransitionPayment(ctx context.Context, id int64, from []cashier.PaymentStatus, ch cashier.PaymentChange) (bool, error) {
	var allowed []any
	for _, f := range from {
		if cashier.CanTransitionPayment(f, ch.Status) {
			allowed = append(allowed, f)
		}
	}
	if len(allowed) == 0 {
		return false, fmt.Errorf("payment %d: no transition %v→%s", id, from, ch.Status)
	}
	in := "?"
	for range allowed[1:] {
		in += ", ?"
	}
	ok, err := t.changed(ctx, `UPDATE payments SET status = ?, updated_at = ?,
		channel_trade_no = CASE WHEN ? = '' THEN channel_trade_no ELSE ? END,
		paid_at = COALESCE(?, paid_at)
		WHERE id = ? AND status IN (`+in+`)`,
		append([]any{ch.Status, dbTime(ch.At), ch.ChannelTradeNo, ch.ChannelTradeNo, dbTime(ch.PaidAt), id}, allowed...)...)
	if err != nil {
		return false, fmt.Errorf("payment %d →%s: %w", id, ch.Status, err)
	}
	return ok, nil
}

func (t *tx) LockPayment(ctx context.Context, id int64) error {
	if _, err := t.exec(ctx, "UPDATE payments SET updated_at = updated_at WHERE id = ?", id); err != nil {
		return fmt.Errorf("lock payment %d: %w", id, err)
	}
	return nil
}

func (t *tx) ClaimTransaction(ctx context.Context, channel, transactionID string, paymentID int64, at time.Time) (int64, error) {
	if _, err := t.exec(ctx, `INSERT INTO channel_transactions (channel, transaction_id, payment_id, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (channel, transaction_id) DO NOTHING`, channel, transactionID, paymentID, dbTime(at)); err != nil {
		return 0, fmt.Errorf("claim %s transaction %s: %w", channel, transactionID, err)
	}
	return t.TransactionOwner(ctx, channel, transactionID)
}

func (t *tx) TransactionOwner(ctx context.Context, channel, transactionID string) (int64, error) {
	var id int64
	err := t.queryRow(ctx, "SELECT payment_id FROM channel_transactions WHERE channel = ? AND transaction_id = ?",
		channel, transactionID).Scan(&id)
	if err != nil {
		return 0, notFound(err, channel+" transaction", transactionID)
	}
	return id, nil
}
