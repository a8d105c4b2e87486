package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"cashier"
)

const refundColumns = `id, order_id, payment_id, out_refund_no, amount, reason, status, channel_refund_no,
	detail, created_at, settled_at`

func scanRefund(s interface{ Scan(...any) error }) (cashier.Refund, error) {
	var r cashier.Refund
	var settled sql.NullTime
	err := s.Scan(&r.ID, &r.OrderID, &r.PaymentID, &r.OutRefundNo, &r.Amount, &r.Reason, &r.Status, &r.ChannelRefundNo,
		&r.Detail, &r.CreatedAt, &settled)
	r.CreatedAt, r.SettledAt = r.CreatedAt.UTC(), fromNull(settled)
	return r, err
}

// InsertRefund writes r and sets its id; a refund without a status is pending.
func (t *tx) InsertRefund(ctx context.Context, r *cashier.Refund) error {
	if r.Status == "" {
		r.Status = cashier.RefundPending
	}
	id, err := t.insert(ctx, `INSERT INTO refunds (order_id, payment_id, out_refund_no, amount, reason, status,
		channel_refund_no, detail, created_at, settled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.OrderID, r.PaymentID, r.OutRefundNo, r.Amount, r.Reason, r.Status,
		r.ChannelRefundNo, r.Detail, dbTime(r.CreatedAt), dbTime(r.SettledAt))
	if err != nil {
		return fmt.Errorf("insert refund: %w", err)
	}
	r.ID = id
	return nil
}

func (t *tx) Refund(ctx context.Context, id int64) (*cashier.Refund, error) {
	r, err := scanRefund(t.queryRow(ctx, "SELECT "+refundColumns+" FROM refunds WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "refund", id)
	}
	return &r, nil
}

func (t *tx) RefundByOutRefundNo(ctx context.Context, outRefundNo string) (*cashier.Refund, error) {
	r, err := scanRefund(t.queryRow(ctx, "SELECT "+refundColumns+" FROM refunds WHERE out_refund_no = ?", outRefundNo))
	if err != nil {
		return nil, notFound(err, "refund", outRefundNo)
	}
	return &r, nil
}

// RefundsByOrder lists an order's refunds, oldest first.
func (t *tx) RefundsByOrder(ctx context.Context, orderID int64) ([]cashier.Refund, error) {
	rows, err := t.query(ctx, "SELECT "+refundColumns+" FROM refunds WHERE order_id = ? ORDER BY id", orderID)
	if err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	defer rows.Close()
	var list []cashier.Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("scan refund: %w", err)
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// TransitionRefund is one statement guarded by the status, so that of two
// racing writers (a notification and a poll, say) only one settles a refund.
// settled_at becomes ch.At (NULL when zero); the channel's refund number is
// kept when ch has none.
func (t *tx) TransitionRefund(ctx context.Context, id int64, from cashier.RefundStatus, ch cashier.RefundChange) (bool, error) {
	if ch.Status == "" {
		return false, cashier.Errorf(cashier.EINVALID, "refund %d: no status to move to", id)
	}
	ok, err := t.changed(ctx, `UPDATE refunds SET status = ?, settled_at = ?,
		channel_refund_no = CASE WHEN ? = '' THEN channel_refund_no ELSE ? END,
		detail = ?
		WHERE id = ? AND status = ?`,
		ch.Status, dbTime(ch.At), ch.ChannelRefundNo, ch.ChannelRefundNo, ch.Detail, id, from)
	if err != nil {
		return false, fmt.Errorf("refund %d %s→%s: %w", id, from, ch.Status, err)
	}
	return ok, nil
}

// ReserveRefund is one guarded statement: concurrent refunds are serialized on
// the order's row (PostgreSQL re-checks the condition against the committed
// row, and SQLite has one writer at a time), so the refunded total never
// exceeds the paid amount. A missing order is reported as not reserved.
func (t *tx) ReserveRefund(ctx context.Context, orderID, amount int64) (bool, error) {
	if amount <= 0 {
		return false, cashier.Errorf(cashier.EINVALID, "cannot refund %d of order %d", amount, orderID)
	}
	ok, err := t.changed(ctx, `UPDATE orders SET refunded_amount = refunded_amount + ?
		WHERE id = ? AND refunded_amount + ? <= paid_amount`, amount, orderID, amount)
	if err != nil {
		return false, fmt.Errorf("reserve refund of %d on order %d: %w", amount, orderID, err)
	}
	return ok, nil
}

// ReleaseRefund is guarded too: it never takes the refunded total below zero.
// Releasing more than is reserved means the books are wrong; it is an error
// and changes nothing, as is a missing order (ENOTFOUND).
func (t *tx) ReleaseRefund(ctx context.Context, orderID, amount int64) error {
	if amount <= 0 {
		return cashier.Errorf(cashier.EINVALID, "cannot release a refund of %d on order %d", amount, orderID)
	}
	ok, err := t.changed(ctx, `UPDATE orders SET refunded_amount = refunded_amount - ?
		WHERE id = ? AND refunded_amount >= ?`, amount, orderID, amount)
	if err != nil {
		return fmt.Errorf("release refund of %d on order %d: %w", amount, orderID, err)
	}
	if ok {
		return nil
	}
	var refunded int64
	if err := t.queryRow(ctx, "SELECT refunded_amount FROM orders WHERE id = ?", orderID).Scan(&refunded); err != nil {
		return notFound(err, "order", orderID)
	}
	return fmt.Errorf("release refund of %d on order %d: only %d is refunded", amount, orderID, refunded)
}
