package checkout

import (
	"context"
	"time"

	"cashier"
)

// place writes a priced pending order and its first payment attempt, with
// everything the order holds, in one transaction: the stock of its standards,
// its coupon, the order it upgrades; and it removes the cart lines it was made
// from. The channel prepares the attempt first, so that a channel failure
// writes nothing. Any guard that fails rolls everything back.
func (s *Service) place(ctx context.Context, ch cashier.Channel, order *cashier.Order, cartIDs []int64, req PayRequest, now time.Time) (*Purchase, error) {
	pay, cred, err := s.prepare(ctx, ch, order, req, now)
	if err != nil {
		return nil, err
	}
	// The order's expires_at and the attempt's PollAt schedule their
	// background work (jobs.Sweep).
	pay.PollAt = s.pollAt(ch, now)
	if holdsNothing(order, cartIDs) {
		err = s.store.PlacePackageOrder(ctx, order, pay)
	} else {
		err = s.insertHolding(ctx, order, cartIDs, pay)
	}
	if err != nil {
		// The channel may hold a trade for the attempt that was never written.
		s.closeAtChannels(ctx, []cashier.Payment{*pay})
		return nil, err
	}
	order.Payments = []cashier.Payment{*pay}
	s.log.InfoContext(ctx, "order created", "order_id", order.ID, "kind", order.Kind, "user_id", order.UserID,
		"payable", order.Payable, "channel", pay.Channel, "gateway", pay.Gateway, "out_trade_no", pay.OutTradeNo)
	return &Purchase{Order: order, Payment: pay, Credential: cred}, nil
}

// holdsNothing says whether an order is one package line that holds
// nothing (no coupon, no upgraded order, no stock, no cart lines, no
// address): the order most buyers place, written in one statement.
func holdsNothing(o *cashier.Order, cartIDs []int64) bool {
	return len(o.Items) == 1 && o.Items[0].PackageID != 0 && o.Items[0].StandardID == 0 &&
		o.CouponID == 0 && o.CostOrderID == 0 && o.Address == nil && len(cartIDs) == 0
}

// insertHolding writes an order, what it holds and its first attempt in one
// transaction; any guard that fails rolls everything back.
func (s *Service) insertHolding(ctx context.Context, order *cashier.Order, cartIDs []int64, pay *cashier.Payment) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		if err := tx.InsertOrder(ctx, order); err != nil {
			return err
		}
		for _, li := range order.Items {
			if li.StandardID == 0 {
				continue
			}
			ok, err := tx.ReserveStock(ctx, li.StandardID, li.Count)
			if err != nil {
				return err
			}
			if !ok {
				return cashier.Errorf(cashier.ECONFLICT, "%s is out of stock", li.Name)
			}
		}
		if len(cartIDs) > 0 {
			n, err := tx.DeleteCartItems(ctx, order.UserID, cartIDs)
			if err != nil {
				return err
			}
			if n != int64(len(cartIDs)) {
				return cashier.Errorf(cashier.ECONFLICT, "the cart changed while checking out: check out again")
			}
		}
		if order.CouponID != 0 {
			ok, err := tx.TransitionCoupon(ctx, order.CouponID, cashier.CouponAvailable, cashier.CouponLocked, order.ID)
			if err != nil {
				return err
			}
			if !ok {
				return cashier.Errorf(cashier.ECONFLICT, "coupon %d is no longer available", order.CouponID)
			}
		}
		if order.CostOrderID != 0 {
			ok, err := tx.ClaimCostOrder(ctx, order.CostOrderID, order.ID)
			if err != nil {
				return err
			}
			if !ok {
				return cashier.Errorf(cashier.ECONFLICT, "order %d can no longer be upgraded: another order holds it, or it was refunded", order.CostOrderID)
			}
		}
		pay.OrderID = order.ID
		return tx.InsertPayment(ctx, pay)
	})
}
