package checkout

import (
	"context"
	"encoding/json"
	"time"

	"cashier"
)

// The background work of an order's life, run by the jobs package: closing it
// when it expires, and asking the channel about attempts whose notification
// has not come.

// pollGrace is how long after an order expired its attempts are still asked
// about: a buyer may finish paying just as cashier gives up.
const pollGrace = 10 * time.Minute

// maxPollWait bounds the wait between two questions about one attempt.
const maxPollWait = 10 * time.Minute

// ExpireOrder closes an order whose expiry has come, releasing what it holds
// and closing its attempts at their channels. An order not yet expired (the
// job ran early) asks to run again at its expiry; any other order is left
// alone.
func (s *Service) ExpireOrder(ctx context.Context, orderID int64) (again time.Duration, err error) {
	var o *cashier.Order
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		o, err = tx.Order(ctx, orderID)
		return err
	})
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if o.Status != cashier.OrderPending {
		return 0, nil
	}
	if now := s.now(); now.Before(o.ExpiresAt) {
		return o.ExpiresAt.Sub(now), nil
	}
	err = s.close(ctx, o, "expired")
	if cashier.ErrorCode(err) == cashier.ECONFLICT {
		return 0, nil // paid meanwhile
	}
	return 0, err
}

// PollPayment asks the channel about an attempt still pending and applies
// what it says, so that a lost notification never leaves a paid order
// pending. While the attempt stays pending it asks again, waiting longer each
// time, until a while after its order expired.
func (s *Service) PollPayment(ctx context.Context, paymentID int64) (again time.Duration, err error) {
	var p *cashier.Payment
	var o *cashier.Order
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		if p, err = tx.Payment(ctx, paymentID); err != nil {
			return err
		}
		o, err = tx.Order(ctx, p.OrderID)
		return err
	})
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	now := s.now()
	// A closed attempt may still have been paid in the moment before it was
	// closed: it is asked about until a while after its order expired.
	late := p.Status == cashier.PaymentClosed && now.Before(o.ExpiresAt.Add(pollGrace))
	if p.Status != cashier.PaymentPending && !late {
		return 0, nil
	}
	q, ok := s.channels[p.Channel].(cashier.Querier)
	if !ok {
		return 0, nil
	}
	n, err := q.Query(ctx, cashier.Trade{OutTradeNo: p.OutTradeNo, ChannelTradeNo: p.ChannelTradeNo})
	switch {
	case cashier.ErrorCode(err) == cashier.ENOTFOUND:
		// The buyer has not opened it yet (an Alipay app trade exists only then).
	case err != nil:
		s.log.WarnContext(ctx, "could not ask the channel about a payment", "channel", p.Channel,
			"out_trade_no", p.OutTradeNo, "err", err)
	case n.Status != cashier.NotifyPending:
		return 0, s.applyQueried(ctx, p.Channel, n)
	}
	if o.Status != cashier.OrderPending && now.After(o.ExpiresAt.Add(pollGrace)) {
		return 0, nil
	}
	// Each wait is half the attempt's age: questions thin out as it ages.
	wait := min(max(now.Sub(p.CreatedAt)/2, s.pollDelay), maxPollWait)
	return wait, nil
}

// applyQueried records what a channel answered about an attempt, as evidence
// like a notification, and applies it.
func (s *Service) applyQueried(ctx context.Context, channel string, n *cashier.Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	msg := &cashier.InboundMessage{Channel: channel, Method: "QUERY", Path: "query " + n.OutTradeNo, Body: body,
		BodySize: len(body), ReceivedAt: s.now(), Verified: true}
	return s.record(ctx, msg, n, &Receipt{})
}

// pollAt is when to start asking ch about an attempt created at now, if ch
// can be asked: zero for a channel without a query API (Apple, the game
// SDKs), whose unpaid attempts simply expire with their order.
func (s *Service) pollAt(ch cashier.Channel, now time.Time) time.Time {
	if _, ok := ch.(cashier.Querier); !ok {
		return time.Time{}
	}
	return now.Add(s.pollDelay)
}
