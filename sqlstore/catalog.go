package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"cashier"
)

const packageColumns = "id, name, price, apple_product_id, gold, diamond, active"

func scanPackage(s interface{ Scan(...any) error }) (cashier.Package, error) {
	var p cashier.Package
	err := s.Scan(&p.ID, &p.Name, &p.Price, &p.AppleProductID, &p.Gold, &p.Diamond, &p.Active)
	return p, err
}

func (t *tx) InsertPackage(ctx context.Context, p *cashier.Package) error {
	id, err := t.insert(ctx, `INSERT INTO packages (name, price, apple_product_id, gold, diamond, active)
		VALUES (?, ?, ?, ?, ?, ?)`, p.Name, p.Price, p.AppleProductID, p.Gold, p.Diamond, p.Active)
	if err != nil {
		return fmt.Errorf("insert package: %w", err)
	}
	p.ID = id
	return nil
}

func (t *tx) Package(ctx context.Context, id int64) (*cashier.Package, error) {
	p, err := scanPackage(t.queryRow(ctx, "SELECT "+packageColumns+" FROM packages WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "package", id)
	}
	return &p, nil
}

func (t *tx) Packages(ctx context.Context) ([]cashier.Package, error) {
	rows, err := t.query(ctx, "SELECT "+packageColumns+" FROM packages WHERE active ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	defer rows.Close()
	var list []cashier.Package
	for rows.Next() {
		p, err := scanPackage(rows)
		if err != nil {
			return nil, fmt.Errorf("scan package: %w", err)
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

const couponColumns = "id, user_id, name, discount, min_amount, expires_at, status, order_id"

func scanCoupon(s interface{ Scan(...any) error }) (cashier.Coupon, error) {
	var c cashier.Coupon
	var expires sql.NullTime
	err := s.Scan(&c.ID, &c.UserID, &c.Name, &c.Discount, &c.MinAmount, &expires, &c.Status, &c.OrderID)
	c.ExpiresAt = fromNull(expires)
	return c, err
}

func (t *tx) InsertCoupon(ctx context.Context, c *cashier.Coupon) error {
	if c.Status == "" {
		c.Status = cashier.CouponAvailable
	}
	id, err := t.insert(ctx, `INSERT INTO coupons (user_id, name, discount, min_amount, expires_at, status, order_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.UserID, c.Name, c.Discount, c.MinAmount, dbTime(c.ExpiresAt), c.Status, c.OrderID)
	if err != nil {
		return fmt.Errorf("insert coupon: %w", err)
	}
	c.ID = id
	return nil
}

func (t *tx) Coupon(ctx context.Context, id int64) (*cashier.Coupon, error) {
	c, err := scanCoupon(t.queryRow(ctx, "SELECT "+couponColumns+" FROM coupons WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "coupon", id)
	}
	return &c, nil
}

func (t *tx) CouponsByUser(ctx context.Context, userID string) ([]cashier.Coupon, error) {
	rows, err := t.query(ctx, "SELECT "+couponColumns+" FROM coupons WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, fmt.Errorf("list coupons: %w", err)
	}
	defer rows.Close()
	var list []cashier.Coupon
	for rows.Next() {
		c, err := scanCoupon(rows)
		if err != nil {
			return nil, fmt.Errorf("scan coupon: %w", err)
		}
		list = append(list, c)
	}
	return list, rows.Err()
}

func (t *tx) TransitionCoupon(ctx context.Context, id int64, from, to cashier.CouponStatus, orderID int64) (bool, error) {
	var ok bool
	var err error
	switch {
	case from == cashier.CouponAvailable:
		ok, err = t.changed(ctx, "UPDATE coupons SET status = ?, order_id = ? WHERE id = ? AND status = ?", to, orderID, id, from)
	case to == cashier.CouponAvailable:
		ok, err = t.changed(ctx, "UPDATE coupons SET status = ?, order_id = 0 WHERE id = ? AND status = ? AND order_id = ?", to, id, from, orderID)
	default:
		ok, err = t.changed(ctx, "UPDATE coupons SET status = ? WHERE id = ? AND status = ? AND order_id = ?", to, id, from, orderID)
	}
	if err != nil {
		return false, fmt.Errorf("coupon %d %s→%s: %w", id, from, to, err)
	}
	return ok, nil
}
