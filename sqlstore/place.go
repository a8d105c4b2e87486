package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"cashier"

	"github.com/jackc/pgx/v5"
)

// PlacePackageOrder writes an order of one package line and its first
// attempt as one change. On PostgreSQL that is one statement, so one round
// trip and one commit: the order, its line (only at the package's current
// name and price, while it is sold) and the attempt are inserted together
// or not at all. SQLite runs the same inserts in a transaction.
func (d *DB) PlacePackageOrder(ctx context.Context, o *cashier.Order, p *cashier.Payment) error {
	if len(o.Items) != 1 || o.Items[0].PackageID == 0 || o.Items[0].StandardID != 0 || o.Address != nil {
		return errors.New("place package order: the order must be one package line, without an address")
	}
	if d.pool == nil {
		return d.Update(ctx, func(tx cashier.Tx) error {
			if err := tx.InsertOrder(ctx, o); err != nil {
				return err
			}
			p.OrderID = o.ID
			return tx.InsertPayment(ctx, p)
		})
	}
	li := &o.Items[0]
	// The order is inserted only if the package still is as priced; the
	// line and the attempt only with the order.
	var orderID, itemID, paymentID int64
	err := d.pool.QueryRow(ctx, `WITH o AS (
		INSERT INTO orders (user_id, kind, status, source, subject, amount, discount, payable,
			paid_amount, refunded_amount, coupon_id, cost_order_id, cost_credit, remarks, address,
			created_at, expires_at, updated_at)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::bigint, $8::bigint,
			0, 0, 0, 0, 0, $9::text, '', $10::timestamptz, $11::timestamptz, $10::timestamptz
		FROM packages WHERE id = $12 AND price = $13 AND name = $14 AND active
		RETURNING id),
	i AS (
		INSERT INTO order_items (order_id, package_id, name, unit_price, count, remarks)
		SELECT o.id, $12, $14, $13, $15::bigint, $16::text FROM o
		RETURNING id),
	y AS (
		INSERT INTO payments (order_id, out_trade_no, channel, gateway, amount, status,
			credential, channel_trade_no, product_id, created_at, paid_at, updated_at, poll_at)
		SELECT o.id, $17::text, $18::text, $19::text, $20::bigint, $21::text, $22::text, $23::text, $24::text,
			$25::timestamptz, $26::timestamptz, $25::timestamptz, $27::timestamptz FROM o
		RETURNING id)
	SELECT o.id, i.id, y.id FROM o, i, y`,
		o.UserID, o.Kind, o.Status, o.Source, o.Subject, o.Amount, o.Discount, o.Payable,
		o.Remarks, dbTime(o.CreatedAt), dbTime(o.ExpiresAt),
		li.PackageID, li.UnitPrice, li.Name, li.Count, li.Remarks,
		p.OutTradeNo, p.Channel, p.Gateway, p.Amount, p.Status,
		string(p.Credential), p.ChannelTradeNo, p.ProductID, dbTime(p.CreatedAt), dbTime(p.PaidAt), dbTime(p.PollAt),
	).Scan(&orderID, &itemID, &paymentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return cashier.ErrPackageChanged
	} else if err != nil {
		return fmt.Errorf("place order: %w", err)
	}
	o.ID, li.ID, li.OrderID = orderID, itemID, orderID
	p.ID, p.OrderID, p.UpdatedAt = paymentID, orderID, p.CreatedAt
	return nil
}
