package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"cashier"

	"github.com/jackc/pgx/v5"
)

const orderColumns = `id, user_id, kind, status, source, subject, amount, discount, payable,
	paid_amount, refunded_amount, coupon_id, cost_order_id, cost_credit, cost_claimed_by, remarks,
	address, created_at, expires_at, paid_at, closed_at`

func scanOrder(s interface{ Scan(...any) error }) (cashier.Order, error) {
	var o cashier.Order
	var paid, closed sql.NullTime
	var address string
	err := s.Scan(&o.ID, &o.UserID, &o.Kind, &o.Status, &o.Source, &o.Subject, &o.Amount, &o.Discount, &o.Payable,
		&o.PaidAmount, &o.Refunded, &o.CouponID, &o.CostOrderID, &o.CostCredit, &o.CostClaimedBy, &o.Remarks,
		&address, &o.CreatedAt, &o.ExpiresAt, &paid, &closed)
	if err != nil {
		return o, err
	}
	o.CreatedAt, o.ExpiresAt = o.CreatedAt.UTC(), o.ExpiresAt.UTC()
	o.PaidAt, o.ClosedAt = fromNull(paid), fromNull(closed)
	if o.Address, err = decodeAddress(address); err != nil {
		return o, fmt.Errorf("order %d: %w", o.ID, err)
	}
	return o, nil
}

func (t *tx) InsertOrder(ctx context.Context, o *cashier.Order) error {
	address, err := encodeAddress(o.Address)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	id, err := t.insert(ctx, `INSERT INTO orders (user_id, kind, status, source, subject, amount, discount, payable,
		paid_amount, refunded_amount, coupon_id, cost_order_id, cost_credit, remarks, address,
		created_at, expires_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.UserID, o.Kind, o.Status, o.Source, o.Subject, o.Amount, o.Discount, o.Payable,
		o.PaidAmount, o.Refunded, o.CouponID, o.CostOrderID, o.CostCredit, o.Remarks, address,
		dbTime(o.CreatedAt), dbTime(o.ExpiresAt), dbTime(o.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	o.ID = id
	for i := range o.Items {
		li := &o.Items[i]
		li.OrderID = id
		if li.PackageID != 0 {
			err = t.insertPackageLine(ctx, li)
		} else {
			li.ID, err = t.insert(ctx, `INSERT INTO order_items (order_id, package_id, product_id, standard_id,
				scheme_id, delivery_time, name, unit_price, count, remarks)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				li.OrderID, li.PackageID, li.ProductID, li.StandardID,
				li.SchemeID, dbTime(li.DeliveryTime), li.Name, li.UnitPrice, li.Count, li.Remarks)
		}
		if err != nil {
			return fmt.Errorf("insert order item: %w", err)
		}
	}
	return nil
}

// insertPackageLine writes a line of a package only at the package's
// current name and price, and only while it is sold: the order may have
// been priced from a cached copy. Otherwise it returns
// cashier.ErrPackageChanged.
func (t *tx) insertPackageLine(ctx context.Context, li *cashier.LineItem) error {
	var err error
	li.ID, err = t.insert(ctx, `INSERT INTO order_items (order_id, package_id, name, unit_price, count, remarks)
		SELECT CAST(? AS BIGINT), id, name, price, CAST(? AS BIGINT), CAST(? AS TEXT) FROM packages
		WHERE id = ? AND price = ? AND name = ? AND active`,
		li.OrderID, li.Count, li.Remarks, li.PackageID, li.UnitPrice, li.Name)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return cashier.ErrPackageChanged
	}
	return err
}

func (t *tx) OrderHead(ctx context.Context, id int64) (*cashier.Order, error) {
	o, err := scanOrder(t.queryRow(ctx, "SELECT "+orderColumns+" FROM orders WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "order", id)
	}
	return &o, nil
}

func (t *tx) Order(ctx context.Context, id int64) (*cashier.Order, error) {
	o, err := t.OrderHead(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.Items, err = t.items(ctx, id); err != nil {
		return nil, err
	}
	if o.Payments, err = t.PaymentsByOrder(ctx, id); err != nil {
		return nil, err
	}
	if o.Refunds, err = t.RefundsByOrder(ctx, id); err != nil {
		return nil, err
	}
	return o, nil
}

func (t *tx) items(ctx context.Context, orderID int64) ([]cashier.LineItem, error) {
	rows, err := t.query(ctx, `SELECT id, order_id, package_id, product_id, standard_id, scheme_id,
		delivery_time, name, unit_price, count, remarks
		FROM order_items WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list order items: %w", err)
	}
	defer rows.Close()
	var list []cashier.LineItem
	for rows.Next() {
		var li cashier.LineItem
		var delivery sql.NullTime
		if err := rows.Scan(&li.ID, &li.OrderID, &li.PackageID, &li.ProductID, &li.StandardID, &li.SchemeID,
			&delivery, &li.Name, &li.UnitPrice, &li.Count, &li.Remarks); err != nil {
			return nil, fmt.Errorf("scan order item: %w", err)
		}
		li.DeliveryTime = fromNull(delivery)
		list = append(list, li)
	}
	return list, rows.Err()
}

func (t *tx) OrdersByUser(ctx context.Context, userID string, f cashier.OrderFilter) ([]cashier.Order, error) {
	if userID == "" {
		return nil, nil
	}
	f.UserID = userID
	return t.Orders(ctx, f)
}

func (t *tx) Orders(ctx context.Context, f cashier.OrderFilter) ([]cashier.Order, error) {
	q := "SELECT " + orderColumns + " FROM orders WHERE 1 = 1"
	var args []any
	if f.UserID != "" {
		q += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.BeforeID > 0 {
		q += " AND id < ?"
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 20
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var list []cashier.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("scan order: %w", err)
		}
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	for i := range list {
		if list[i].Items, err = t.items(ctx, list[i].ID); err != nil {
			return nil, err
		}
		if list[i].Payments, err = t.PaymentsByOrder(ctx, list[i].ID); err != nil {
			return nil, err
		}
		if list[i].Refunds, err = t.RefundsByOrder(ctx, list[i].ID); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func (t *tx) TransitionOrder(ctx context.Context, id int64, from cashier.OrderStatus, ch cashier.OrderChange) (bool, error) {
	if !cashier.CanTransitionOrder(from, ch.Status) {
		return false, fmt.Errorf("order %d: no transition %s→%s", id, from, ch.Status)
	}
	var ok bool
	var err error
	switch {
	case ch.Status == cashier.OrderPaid && (from == cashier.OrderPending || from == cashier.OrderClosed):
		// Only the payment sets paid_at and paid_amount: a failed refund that
		// returns an order to paid leaves them as they were.
		ok, err = t.changed(ctx, `UPDATE orders SET status = ?, paid_at = ?, paid_amount = ?, updated_at = ?
			WHERE id = ? AND status = ?`, ch.Status, dbTime(ch.At), ch.PaidAmount, dbTime(ch.At), id, from)
	case ch.Status == cashier.OrderClosed:
		ok, err = t.changed(ctx, `UPDATE orders SET status = ?, closed_at = ?, updated_at = ?
			WHERE id = ? AND status = ?`, ch.Status, dbTime(ch.At), dbTime(ch.At), id, from)
	default:
		ok, err = t.changed(ctx, `UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			ch.Status, dbTime(ch.At), id, from)
	}
	if err != nil {
		return false, fmt.Errorf("order %d %s→%s: %w", id, from, ch.Status, err)
	}
	return ok, nil
}

func (t *tx) PayPendingOrder(ctx context.Context, orderID int64, at time.Time, paidAmount int64,
	paymentID int64, ch cashier.PaymentChange) (*cashier.Order, bool, error) {
	if ch.Status != cashier.PaymentPaid {
		return nil, false, fmt.Errorf("pay order %d: the attempt must become paid, not %s", orderID, ch.Status)
	}
	if t.pg == nil {
		o, err := scanOrder(t.queryRow(ctx, `UPDATE orders SET status = 'paid', paid_at = ?, paid_amount = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' RETURNING `+orderColumns, dbTime(at), paidAmount, dbTime(at), orderID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, nil
		} else if err != nil {
			return nil, false, fmt.Errorf("pay order %d: %w", orderID, err)
		}
		paid, err := t.TransitionPayment(ctx, paymentID, cashier.PaidFrom(), ch)
		return &o, paid, err
	}
	// One statement: the attempt changes only with the order, and only out of
	// cashier.PaidFrom's statuses.
	var paid bool
	o, err := scanOrder(withExtra{t.queryRow(ctx, `WITH o AS (
			UPDATE orders SET status = 'paid', paid_at = ?, paid_amount = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' RETURNING `+orderColumns+`),
		y AS (
			UPDATE payments SET status = 'paid', updated_at = ?,
				channel_trade_no = CASE WHEN ? = '' THEN channel_trade_no ELSE ? END, paid_at = COALESCE(?, paid_at)
			WHERE id = ? AND status IN ('pending', 'closed', 'failed') AND EXISTS (SELECT 1 FROM o)
			RETURNING id)
		SELECT `+orderColumns+`, EXISTS (SELECT 1 FROM y) FROM o`,
		dbTime(at), paidAmount, dbTime(at), orderID,
		dbTime(ch.At), ch.ChannelTradeNo, ch.ChannelTradeNo, dbTime(ch.PaidAt), paymentID), &paid})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("pay order %d: %w", orderID, err)
	}
	return &o, paid, nil
}

// withExtra scans a row of the usual columns followed by one more.
type withExtra struct {
	r     row
	extra any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra)...) }

func (t *tx) ClaimCostOrder(ctx context.Context, costID, byOrderID int64) (bool, error) {
	// Only a paid order with nothing refunded gives credit: one refunded
	// meanwhile must not be claimed.
	ok, err := t.changed(ctx, `UPDATE orders SET cost_claimed_by = ? WHERE id = ? AND cost_claimed_by = 0
		AND status IN ('paid', 'fulfilled') AND refunded_amount = 0`, byOrderID, costID)
	if err != nil {
		return false, fmt.Errorf("claim cost order %d: %w", costID, err)
	}
	return ok, nil
}

func (t *tx) ReleaseCostOrder(ctx context.Context, costID, byOrderID int64) error {
	_, err := t.exec(ctx, "UPDATE orders SET cost_claimed_by = 0 WHERE id = ? AND cost_claimed_by = ?", costID, byOrderID)
	if err != nil {
		return fmt.Errorf("release cost order %d: %w", costID, err)
	}
	return nil
}

func (t *tx) LockOrder(ctx context.Context, id int64) error {
	if _, err := t.exec(ctx, "UPDATE orders SET updated_at = updated_at WHERE id = ?", id); err != nil {
		return fmt.Errorf("lock order %d: %w", id, err)
	}
	return nil
}
