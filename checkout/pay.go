package checkout

import (
	"context"
	"time"

	"cashier"
)

// Pay creates a new payment attempt for a pending order of the user: after the
// buyer cancelled in the channel's app, after an attempt expired, or to switch
// channel. Earlier open attempts are closed; any of them that is paid anyway
// is still recorded (and refunded if the order no longer needs it).
func (s *Service) Pay(ctx context.Context, userID string, orderID int64, req PayRequest) (*Purchase, error) {
	ch, err := s.channelGateway(req.Channel, req.Gateway)
	if err != nil {
		return nil, err
	}
	now := s.now()
	order, err := s.userOrder(ctx, userID, orderID)
	if err != nil {
		return nil, err
	}
	if order.Expired(now) {
		if err := s.close(ctx, order, "expired"); err != nil {
			return nil, err
		}
		return nil, cashier.Errorf(cashier.ECONFLICT, "order %d has expired and is now closed: place a new order", order.ID)
	}
	if err := payable(order); err != nil {
		return nil, err
	}
	pay, cred, err := s.prepare(ctx, ch, order, req, now)
	if err != nil {
		return nil, err
	}
	var superseded []cashier.Payment
	err = s.store.Update(ctx, func(tx cashier.Tx) error {
		// Locked first, so that a payment or a close landing now is seen
		// here, and waits for this attempt to be written.
		if err := tx.LockOrder(ctx, order.ID); err != nil {
			return err
		}
		cur, err := tx.Order(ctx, order.ID)
		if err != nil {
			return err
		}
		if err := payable(cur); err != nil {
			return err
		}
		if superseded, err = closeOpenAttempts(ctx, tx, cur.Payments, now); err != nil {
			return err
		}
		pay.OrderID = cur.ID
		pay.PollAt = s.pollAt(ch, now)
		return tx.InsertPayment(ctx, pay)
	})
	if err != nil {
		// The channel may hold a trade for the attempt that was never written.
		s.closeAtChannels(ctx, []cashier.Payment{*pay})
		return nil, err
	}
	s.closeAtChannels(ctx, superseded)
	s.log.InfoContext(ctx, "payment attempt created", "order_id", order.ID, "channel", pay.Channel,
		"gateway", pay.Gateway, "out_trade_no", pay.OutTradeNo)
	order.Payments = append(order.Payments, *pay)
	return &Purchase{Order: order, Payment: pay, Credential: cred}, nil
}

func payable(o *cashier.Order) error {
	if o.Status != cashier.OrderPending {
		return cashier.Errorf(cashier.ECONFLICT, "order %d is %s and cannot be paid", o.ID, o.Status)
	}
	return nil
}

// Cancel closes a pending order of the user, giving back its coupon and the
// order it was upgrading. Cancelling a closed order again is not an error.
func (s *Service) Cancel(ctx context.Context, userID string, orderID int64) (*cashier.Order, error) {
	order, err := s.userOrder(ctx, userID, orderID)
	if err != nil {
		return nil, err
	}
	switch order.Status {
	case cashier.OrderClosed:
		return order, nil
	case cashier.OrderPending:
	default:
		return nil, cashier.Errorf(cashier.ECONFLICT, "order %d is %s and cannot be cancelled", order.ID, order.Status)
	}
	if err := s.close(ctx, order, "cancelled"); err != nil {
		return nil, err
	}
	return s.userOrder(ctx, userID, orderID)
}

// close moves a pending order to closed with everything it held released
// (stock, coupon, the order it upgraded), in one transaction. Losing the race
// to a payment is reported as a conflict.
func (s *Service) close(ctx context.Context, order *cashier.Order, reason string) error {
	at := s.now()
	var closed []cashier.Payment
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		ok, err := tx.TransitionOrder(ctx, order.ID, cashier.OrderPending, cashier.OrderChange{Status: cashier.OrderClosed, At: at})
		if err != nil {
			return err
		}
		if !ok {
			cur, err := tx.Order(ctx, order.ID)
			if err != nil {
				return err
			}
			if cur.Status == cashier.OrderClosed {
				return nil
			}
			return cashier.Errorf(cashier.ECONFLICT, "order %d is %s and cannot be closed", order.ID, cur.Status)
		}
		if order.CouponID != 0 {
			if _, err := tx.TransitionCoupon(ctx, order.CouponID, cashier.CouponLocked, cashier.CouponAvailable, order.ID); err != nil {
				return err
			}
		}
		if order.CostOrderID != 0 {
			if err := tx.ReleaseCostOrder(ctx, order.CostOrderID, order.ID); err != nil {
				return err
			}
		}
		for _, li := range order.Items {
			if li.StandardID != 0 {
				if err := tx.ReleaseStock(ctx, li.StandardID, li.Count); err != nil {
					return err
				}
			}
		}
		payments, err := tx.PaymentsByOrder(ctx, order.ID)
		if err != nil {
			return err
		}
		if closed, err = closeOpenAttempts(ctx, tx, payments, at); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, cashier.EventOrderClosed, order.ID, at, map[string]any{
			"order_id": order.ID, "user_id": order.UserID, "reason": reason,
		})
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "order closed", "order_id", order.ID, "reason", reason)
	s.closeAtChannels(ctx, closed)
	return nil
}

// closeOpenAttempts closes the pending attempts among payments and returns them.
func closeOpenAttempts(ctx context.Context, tx cashier.Tx, payments []cashier.Payment, at time.Time) ([]cashier.Payment, error) {
	var closed []cashier.Payment
	for _, p := range payments {
		if p.Status != cashier.PaymentPending {
			continue
		}
		ok, err := tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentPending},
			cashier.PaymentChange{Status: cashier.PaymentClosed, At: at})
		if err != nil {
			return nil, err
		}
		if ok {
			closed = append(closed, p)
		}
	}
	return closed, nil
}

// closeAtChannels asks the channels to close attempts cashier closed, so that
// the buyer can no longer pay them. It is best effort: an attempt paid anyway
// is still recorded when its notification comes, and refunded.
func (s *Service) closeAtChannels(ctx context.Context, payments []cashier.Payment) {
	for _, p := range payments {
		closer, ok := s.channels[p.Channel].(cashier.Closer)
		if !ok {
			continue
		}
		err := closer.Close(ctx, cashier.Trade{OutTradeNo: p.OutTradeNo, ChannelTradeNo: p.ChannelTradeNo})
		if cashier.ErrorCode(err) == cashier.ECONFLICT {
			// Paid just before the close: ask, rather than wait for a
			// notification that may have been lost.
			s.log.InfoContext(ctx, "an attempt was paid before it could be closed", "channel", p.Channel, "out_trade_no", p.OutTradeNo)
			err = s.queryPaid(ctx, p)
		}
		if err != nil {
			s.log.WarnContext(ctx, "could not close an attempt at its channel", "channel", p.Channel,
				"out_trade_no", p.OutTradeNo, "err", err)
		}
	}
}

// queryPaid asks the channel about an attempt it says was paid and records
// what it answers; if the answer cannot be had now, polling asks again.
func (s *Service) queryPaid(ctx context.Context, p cashier.Payment) error {
	if q, ok := s.channels[p.Channel].(cashier.Querier); ok {
		n, err := q.Query(ctx, cashier.Trade{OutTradeNo: p.OutTradeNo, ChannelTradeNo: p.ChannelTradeNo})
		if err == nil && n.Status != cashier.NotifyPending {
			return s.applyQueried(ctx, p.Channel, n)
		}
	}
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		return s.jobs.PollPayment(ctx, tx, p.ID, s.now().Add(s.pollDelay))
	})
}
