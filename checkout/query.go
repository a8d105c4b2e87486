package checkout

import (
	"context"

	"cashier"
)

// userOrder returns the user's order; another user's order is not found, as if
// it did not exist.
func (s *Service) userOrder(ctx context.Context, userID string, id int64) (o *cashier.Order, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		o, err = tx.Order(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if o.UserID != userID {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "order %d not found", id)
	}
	return o, nil
}

// Order returns one of the user's orders with its items and payments.
func (s *Service) Order(ctx context.Context, userID string, id int64) (*cashier.Order, error) {
	return s.userOrder(ctx, userID, id)
}

// Orders lists the user's orders, newest first.
func (s *Service) Orders(ctx context.Context, userID string, f cashier.OrderFilter) (list []cashier.Order, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.OrdersByUser(ctx, userID, f)
		return err
	})
	return list, err
}

// Packages lists the active packages.
func (s *Service) Packages(ctx context.Context) (list []cashier.Package, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.Packages(ctx)
		return err
	})
	return list, err
}

// Coupons lists the user's coupons, their status as of now.
func (s *Service) Coupons(ctx context.Context, userID string) (list []cashier.Coupon, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		list, err = tx.CouponsByUser(ctx, userID)
		return err
	})
	now := s.now()
	for i := range list {
		list[i].Status = list[i].StatusAt(now)
	}
	return list, err
}

// PaymentByOutTradeNo returns a payment attempt by its out_trade_no.
func (s *Service) PaymentByOutTradeNo(ctx context.Context, outTradeNo string) (p *cashier.Payment, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		p, err = tx.PaymentByOutTradeNo(ctx, outTradeNo)
		return err
	})
	return p, err
}
