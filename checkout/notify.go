package checkout

import (
	"context"
	"errors"
	"fmt"

	"cashier"
)

// Receipt says what became of one inbound notification.
type Receipt struct {
	MessageID  int64
	Outcome    string // a cashier.Inbound* outcome
	Detail     string
	OutTradeNo string
	OrderID    int64
}

// errRaced rolls back an apply that lost a race to an identical notification.
var errRaced = errors.New("payment changed concurrently")

// Receive records an inbound notification of a channel, verifies it, applies it
// once, and returns the reply the channel expects. The message is recorded
// before anything else happens; if it cannot be, the reply asks the channel to
// resend. A message that cannot be verified (bad signature, malformed) is also
// answered with "resend": it is not from the channel, or our key is wrong and
// the resends give an operator time to fix it. Anything else that was recorded
// is acknowledged, rejected or not: resending it would change nothing.
func (s *Service) Receive(ctx context.Context, channel string, req *cashier.InboundRequest, remoteAddr string) (cashier.NotifyReply, *Receipt, error) {
	ch, ok := s.channels[channel]
	if !ok {
		return cashier.NotifyReply{}, nil, cashier.Errorf(cashier.ENOTFOUND, "channel %q is not enabled", channel)
	}
	msg := &cashier.InboundMessage{
		Channel: channel, Method: req.Method, Path: req.Path, Query: req.Query, Headers: req.Headers,
		Body: req.Body, RemoteAddr: remoteAddr, ReceivedAt: s.now(), Outcome: cashier.InboundReceived,
	}
	if err := s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertInbound(ctx, msg) }); err != nil {
		s.log.ErrorContext(ctx, "could not record a notification: asking the channel to resend", "channel", channel, "err", err)
		return ch.Reply(false), nil, err
	}
	rc := &Receipt{MessageID: msg.ID}

	n, err := ch.VerifyNotification(ctx, req)
	if err != nil {
		rc.Outcome, rc.Detail = cashier.InboundRejected, cashier.ErrorMessage(err)
		s.log.WarnContext(ctx, "notification rejected", "channel", channel, "message_id", msg.ID,
			"remote_addr", remoteAddr, "reason", rc.Detail)
		if err := s.setOutcome(ctx, rc); err != nil {
			return ch.Reply(false), rc, err
		}
		// Only a genuine message meant for someone else is acknowledged; one we
		// could not verify may be ours with a key we got wrong.
		return ch.Reply(cashier.ErrorCode(err) == cashier.EUNPROCESSABLE), rc, nil
	}
	if err := s.applyRecorded(ctx, channel, n, rc); err != nil {
		return ch.Reply(false), rc, err
	}
	return ch.Reply(true), rc, nil
}

// applyRecorded applies a verified notification whose message rc records,
// and records the outcome in the same transaction.
func (s *Service) applyRecorded(ctx context.Context, channel string, n *cashier.Notification, rc *Receipt) error {
	rc.OutTradeNo = n.OutTradeNo
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		if err := s.apply(ctx, tx, channel, n, rc); err != nil {
			return err
		}
		return tx.SetInboundOutcome(ctx, rc.MessageID, rc.Outcome, rc.Detail, rc.OutTradeNo)
	})
	if errors.Is(err, errRaced) {
		rc.Outcome, rc.Detail = cashier.InboundDuplicate, "already applied by a concurrent delivery"
		err = s.setOutcome(ctx, rc)
	}
	if err != nil {
		rc.Outcome, rc.Detail = cashier.InboundFailed, "could not apply: "+err.Error()
		s.log.ErrorContext(ctx, "could not apply a notification: asking the channel to resend", "channel", channel,
			"message_id", rc.MessageID, "out_trade_no", n.OutTradeNo, "err", err)
		s.setOutcome(context.WithoutCancel(ctx), rc)
		return err
	}
	level := s.log.InfoContext
	if rc.Outcome == cashier.InboundRejected {
		level = s.log.WarnContext
	}
	level(ctx, "notification "+rc.Outcome, "channel", channel, "message_id", rc.MessageID, "out_trade_no", n.OutTradeNo,
		"order_id", rc.OrderID, "status", n.RawStatus, "detail", rc.Detail)
	return nil
}

func (s *Service) setOutcome(ctx context.Context, rc *Receipt) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		return tx.SetInboundOutcome(ctx, rc.MessageID, rc.Outcome, rc.Detail, rc.OutTradeNo)
	})
}

// apply changes payments and orders as a verified notification says, at most
// once. It sets rc's outcome; an error means nothing may be committed.
func (s *Service) apply(ctx context.Context, tx cashier.Tx, channel string, n *cashier.Notification, rc *Receipt) error {
	reject := func(format string, args ...any) error {
		rc.Outcome, rc.Detail = cashier.InboundRejected, fmt.Sprintf(format, args...)
		return nil
	}
	if n.Refund != nil {
		return s.applyRefundNotice(ctx, tx, channel, n, rc)
	}
	p, err := tx.PaymentByOutTradeNo(ctx, n.OutTradeNo)
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return reject("unknown out_trade_no %q", n.OutTradeNo)
	} else if err != nil {
		return err
	}
	rc.OrderID = p.OrderID
	if p.Channel != channel {
		return reject("out_trade_no %q belongs to channel %s", n.OutTradeNo, p.Channel)
	}
	if n.Amount != p.Amount {
		return reject("amount %s yuan does not match the %s yuan of the payment", cashier.FormatYuan(n.Amount), cashier.FormatYuan(p.Amount))
	}
	now := s.now()
	switch n.Status {
	case cashier.NotifyPending:
		rc.Outcome, rc.Detail = cashier.InboundIgnored, "not paid yet: "+n.RawStatus
		return nil
	case cashier.NotifyClosed, cashier.NotifyFailed:
		to := cashier.PaymentClosed
		if n.Status == cashier.NotifyFailed {
			to = cashier.PaymentFailed
		}
		ok, err := tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentPending},
			cashier.PaymentChange{Status: to, At: now, ChannelTradeNo: n.ChannelTradeNo})
		if err != nil {
			return err
		}
		if !ok {
			rc.Outcome, rc.Detail = cashier.InboundIgnored, fmt.Sprintf("payment is already %s", p.Status)
			return nil
		}
		rc.Outcome, rc.Detail = cashier.InboundApplied, "payment "+string(to)
		return nil
	case cashier.NotifyPaid:
	default:
		return fmt.Errorf("notification status %q", n.Status)
	}

	switch p.Status {
	case cashier.PaymentPaid, cashier.PaymentNeedsRefund, cashier.PaymentRefunded:
		rc.Outcome, rc.Detail = cashier.InboundDuplicate, fmt.Sprintf("payment is already %s", p.Status)
		return nil
	}
	order, err := tx.Order(ctx, p.OrderID)
	if err != nil {
		return err
	}
	paidAt := n.PaidAt
	if paidAt.IsZero() {
		paidAt = now
	}
	orderPaid := false
	if order.Status == cashier.OrderPending {
		orderPaid, err = tx.TransitionOrder(ctx, order.ID, cashier.OrderPending,
			cashier.OrderChange{Status: cashier.OrderPaid, At: paidAt, PaidAmount: p.Amount})
		if err != nil {
			return err
		}
	}
	to := cashier.PaymentNeedsRefund
	if orderPaid {
		to = cashier.PaymentPaid
	}
	ok, err := tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentPending, cashier.PaymentClosed, cashier.PaymentFailed},
		cashier.PaymentChange{Status: to, At: now, ChannelTradeNo: n.ChannelTradeNo, PaidAt: paidAt})
	if err != nil {
		return err
	}
	if !ok {
		return errRaced
	}
	data := map[string]any{
		"order_id": order.ID, "user_id": order.UserID, "payment_id": p.ID, "out_trade_no": p.OutTradeNo,
		"channel": p.Channel, "gateway": p.Gateway, "amount": p.Amount, "channel_trade_no": n.ChannelTradeNo,
		"paid_at": paidAt.UTC(),
	}
	if !orderPaid {
		rc.Outcome = cashier.InboundApplied
		rc.Detail = fmt.Sprintf("late payment: order is %s, payment needs a refund", order.Status)
		s.log.WarnContext(ctx, "payment for an order that no longer needs it: needs refund", "order_id", order.ID,
			"order_status", order.Status, "out_trade_no", p.OutTradeNo, "amount", p.Amount)
		data["order_status"] = order.Status
		if err := s.refundLatePayment(ctx, tx, p, now); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, cashier.EventPaymentLate, order.ID, now, data)
	}
	if order.CouponID != 0 {
		if _, err := tx.TransitionCoupon(ctx, order.CouponID, cashier.CouponLocked, cashier.CouponUsed, order.ID); err != nil {
			return err
		}
	}
	rc.Outcome, rc.Detail = cashier.InboundApplied, "order paid"
	return s.insertEvent(ctx, tx, cashier.EventOrderPaid, order.ID, now, data)
}
