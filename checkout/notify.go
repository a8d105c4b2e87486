package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cashier"
)

// Receipt says what became of one inbound notification.
type Receipt struct {
	MessageID  int64 // 0 when it was not recorded
	Outcome    string
	Detail     string
	OutTradeNo string
	OrderID    int64
	// Reason is why a message was rejected, in a word for metrics: one of
	// the Reject* reasons; "" for a message that was not rejected.
	Reason string
}

// Why notifications are rejected.
const (
	RejectSignature   = "signature"    // the signature does not verify
	RejectMalformed   = "malformed"    // not a message of the channel's format
	RejectNotOurs     = "not_ours"     // genuine, for another merchant or app
	RejectMismatch    = "mismatch"     // genuine, but no attempt of ours matches it (number, amount)
	RejectRateLimited = "rate_limited" // unverifiable, and too many from one address: not recorded
)

// Inbound is a notification as it arrived from a channel.
type Inbound struct {
	Channel    string
	Request    *cashier.InboundRequest
	RemoteAddr string
	// Admit is asked, once a message failed verification, whether to record
	// it; false drops it (a flood of forgeries from one address). A message
	// that verifies is always recorded. nil admits every message.
	Admit func() bool
}

// errRaced rolls back an apply that lost a race to an identical notification.
var errRaced = errors.New("payment changed concurrently")

// Receive verifies an inbound notification of a channel, records it and
// applies it once, and returns the reply the channel expects. A verified
// message is recorded in the transaction that applies it; if it cannot be
// applied it is recorded as failed and the reply asks the channel to resend.
// A message that cannot be verified (bad signature, malformed) is recorded
// with the first few KiB of its body and answered "resend": it is not from
// the channel, or our key is wrong and the resends give an operator time to
// fix it. Anything else is acknowledged, rejected or not: resending it would
// change nothing.
func (s *Service) Receive(ctx context.Context, in Inbound) (cashier.NotifyReply, *Receipt, error) {
	ch, ok := s.channels[in.Channel]
	if !ok {
		return cashier.NotifyReply{}, nil, cashier.Errorf(cashier.ENOTFOUND, "channel %q is not enabled", in.Channel)
	}
	req := in.Request
	msg := &cashier.InboundMessage{
		Channel: in.Channel, Method: req.Method, Path: req.Path, Query: req.Query, Headers: req.Headers,
		Body: req.Body, BodySize: len(req.Body), RemoteAddr: in.RemoteAddr, ReceivedAt: s.now(), Verified: true,
	}
	n, err := ch.VerifyNotification(ctx, req)
	if err != nil {
		rc, err := s.recordRejected(ctx, in, msg, err)
		return cashier.ReplyTo(ch, req, (rc.Reason == RejectNotOurs || rc.Reason == RejectUsed) && err == nil), rc, err
	}
	rc := &Receipt{}
	if err := s.record(ctx, msg, n, rc); err != nil {
		return cashier.ReplyTo(ch, req, false), rc, err
	}
	return cashier.ReplyTo(ch, req, true), rc, nil
}

// recordRejected records a message that failed verification, unless Admit
// drops it. Only a genuine message meant for someone else (not ours) keeps
// its whole body: the others keep MaxRejectedBody bytes.
func (s *Service) recordRejected(ctx context.Context, in Inbound, msg *cashier.InboundMessage, verr error) (*Receipt, error) {
	rc := &Receipt{Outcome: cashier.InboundRejected, Detail: cashier.ErrorMessage(verr), Reason: rejectReason(verr)}
	if rc.Reason != RejectNotOurs && rc.Reason != RejectUsed {
		if in.Admit != nil && !in.Admit() {
			rc.Outcome, rc.Reason = "", RejectRateLimited
			return rc, nil
		}
		msg.Verified = false
		msg.Body = msg.Body[:min(len(msg.Body), cashier.MaxRejectedBody)]
	}
	msg.Outcome, msg.Detail = rc.Outcome, rc.Detail
	if err := s.store.Update(ctx, func(tx cashier.Tx) error { return tx.InsertInbound(ctx, msg) }); err != nil {
		s.log.ErrorContext(ctx, "could not record a notification", "channel", in.Channel, "err", err)
		return rc, err
	}
	rc.MessageID = msg.ID
	s.log.WarnContext(ctx, "notification rejected", "channel", in.Channel, "message_id", msg.ID,
		"remote_addr", in.RemoteAddr, "reason", rc.Reason, "detail", rc.Detail)
	return rc, nil
}

// rejectReason names why verification failed.
func rejectReason(err error) string {
	switch cashier.ErrorCode(err) {
	case cashier.EFORBIDDEN:
		return RejectSignature
	case cashier.EUNPROCESSABLE:
		return RejectNotOurs
	case cashier.ECONFLICT:
		return RejectUsed
	default:
		return RejectMalformed
	}
}

// record applies a verified notification and records msg with the outcome,
// in one transaction. When that cannot be done the message is still
// recorded: as a duplicate when an identical one won the race, otherwise as
// failed (the channel will resend it).
func (s *Service) record(ctx context.Context, msg *cashier.InboundMessage, n *cashier.Notification, rc *Receipt) error {
	rc.OutTradeNo, msg.OutTradeNo = n.OutTradeNo, n.OutTradeNo
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		if err := s.apply(ctx, tx, msg.Channel, n, rc); err != nil {
			return err
		}
		return s.insertMessage(ctx, tx, msg, rc)
	})
	if errors.Is(err, errRaced) {
		rc.Outcome, rc.Detail = cashier.InboundDuplicate, "already applied by a concurrent delivery"
		err = s.store.Update(ctx, func(tx cashier.Tx) error { return s.insertMessage(ctx, tx, msg, rc) })
	}
	rc.MessageID = msg.ID // set by the commit
	if err != nil {
		s.log.ErrorContext(ctx, "could not apply a notification: asking the channel to resend", "channel", msg.Channel,
			"out_trade_no", n.OutTradeNo, "err", err)
		rc.Outcome, rc.Detail, rc.Reason = cashier.InboundFailed, "could not apply: "+err.Error(), ""
		ctx := context.WithoutCancel(ctx)
		if rerr := s.store.Update(ctx, func(tx cashier.Tx) error { return s.insertMessage(ctx, tx, msg, rc) }); rerr != nil {
			s.log.ErrorContext(ctx, "could not record a notification", "channel", msg.Channel, "out_trade_no", n.OutTradeNo, "err", rerr)
		}
		rc.MessageID = msg.ID
		return err
	}
	level := s.log.InfoContext
	if rc.Outcome == cashier.InboundRejected {
		level = s.log.WarnContext
	}
	level(ctx, "notification "+rc.Outcome, "channel", msg.Channel, "message_id", rc.MessageID, "out_trade_no", n.OutTradeNo,
		"order_id", rc.OrderID, "status", n.RawStatus, "detail", rc.Detail)
	return nil
}

// insertMessage records msg with the outcome rc says; msg.ID is set once
// the transaction committed.
func (s *Service) insertMessage(ctx context.Context, tx cashier.Tx, msg *cashier.InboundMessage, rc *Receipt) error {
	msg.Outcome, msg.Detail = rc.Outcome, rc.Detail
	return tx.InsertInbound(ctx, msg)
}

// reject sets rc to a rejection of a genuine message that matches no attempt.
func (rc *Receipt) reject(format string, args ...any) error {
	rc.Outcome, rc.Detail, rc.Reason = cashier.InboundRejected, fmt.Sprintf(format, args...), RejectMismatch
	return nil
}

// apply changes payments and orders as a verified notification says, at most
// once. It sets rc's outcome; an error means nothing may be committed.
func (s *Service) apply(ctx context.Context, tx cashier.Tx, channel string, n *cashier.Notification, rc *Receipt) error {
	if n.Refund != nil {
		return s.applyRefundNotice(ctx, tx, channel, n, rc)
	}
	if n.Status == cashier.NotifyPending && n.OutTradeNo == "" && len(n.Claims) == 0 {
		rc.Outcome, rc.Detail = cashier.InboundIgnored, "nothing to apply: "+n.RawStatus
		return nil
	}
	p, err := s.attemptOf(ctx, tx, channel, n)
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return rc.reject("%s", cashier.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	rc.OrderID = p.OrderID
	if p.Channel != channel {
		return rc.reject("out_trade_no %q belongs to channel %s", n.OutTradeNo, p.Channel)
	}
	if s.namesAnotherTrade(p, n.ChannelTradeNo) {
		return rc.reject("%s trade %q is not attempt %s (%q)", channel, n.ChannelTradeNo, p.OutTradeNo, p.ChannelTradeNo)
	}
	// An app store's purchase names the product it bought; the store set
	// its price.
	if p.ProductID != "" || n.ProductID != "" {
		if n.ProductID != p.ProductID {
			return rc.reject("product %q is not the %q of the payment", n.ProductID, p.ProductID)
		}
	} else if n.Amount != p.Amount && (n.Status == cashier.NotifyPaid || n.Amount != 0) {
		// A notice that the payment failed or closed may carry no amount
		// (WeChat's result_code FAIL); one that says paid always does.
		return rc.reject("amount %s yuan does not match the %s yuan of the payment", cashier.FormatYuan(n.Amount), cashier.FormatYuan(p.Amount))
	}
	switch n.Status {
	case cashier.NotifyPending:
		rc.Outcome, rc.Detail = cashier.InboundIgnored, "not paid yet: "+n.RawStatus
		return nil
	case cashier.NotifyClosed:
		return s.applyUnpaid(ctx, tx, p, cashier.PaymentClosed, n, rc)
	case cashier.NotifyFailed:
		return s.applyUnpaid(ctx, tx, p, cashier.PaymentFailed, n, rc)
	case cashier.NotifyPaid:
		return s.applyPaid(ctx, tx, p, n, rc)
	case cashier.NotifyRefunded:
		return s.applyRefundedByChannel(ctx, tx, p, n, rc)
	default:
		return fmt.Errorf("notification status %q", n.Status)
	}
}

// namesAnotherTrade says whether channelTradeNo, from a notification of a
// channel that binds its trade numbers, is not p's trade at the channel.
func (s *Service) namesAnotherTrade(p *cashier.Payment, channelTradeNo string) bool {
	b, ok := s.channels[p.Channel].(cashier.TradeNoBinder)
	return ok && b.BindsChannelTradeNo() && channelTradeNo != p.ChannelTradeNo
}

// applyUnpaid closes or fails a pending attempt, as its channel says.
func (s *Service) applyUnpaid(ctx context.Context, tx cashier.Tx, p *cashier.Payment, to cashier.PaymentStatus, n *cashier.Notification, rc *Receipt) error {
	ok, err := tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentPending},
		cashier.PaymentChange{Status: to, At: s.now(), ChannelTradeNo: n.ChannelTradeNo})
	if err != nil {
		return err
	}
	if !ok {
		rc.Outcome, rc.Detail = cashier.InboundIgnored, fmt.Sprintf("payment is already %s", p.Status)
		return nil
	}
	rc.Outcome, rc.Detail = cashier.InboundApplied, "payment "+string(to)
	return nil
}

// applyPaid records money received for an attempt: it pays the order if the
// order still waits for it, and otherwise is late and needs a refund.
func (s *Service) applyPaid(ctx context.Context, tx cashier.Tx, p *cashier.Payment, n *cashier.Notification, rc *Receipt) error {
	switch p.Status {
	case cashier.PaymentPaid, cashier.PaymentNeedsRefund, cashier.PaymentRefunded:
		if len(n.Claims) > 0 && n.ChannelTradeNo != p.ChannelTradeNo {
			// The buyer bought the product again for the same attempt: the
			// store took money twice, and only the buyer can have it back.
			s.log.WarnContext(ctx, "a second store purchase for an attempt already paid", "channel", p.Channel,
				"out_trade_no", p.OutTradeNo, "transaction", n.ChannelTradeNo, "paid_by", p.ChannelTradeNo)
			return rc.reject("%s transaction %s is a second purchase for attempt %s, already paid by transaction %s: not applied",
				p.Channel, n.ChannelTradeNo, p.OutTradeNo, p.ChannelTradeNo)
		}
		rc.Outcome, rc.Detail = cashier.InboundDuplicate, fmt.Sprintf("payment is already %s", p.Status)
		return nil
	}
	if taken, err := s.claim(ctx, tx, p, n, rc); err != nil || taken {
		return err
	}
	now := s.now()
	paidAt := n.PaidAt
	if paidAt.IsZero() {
		paidAt = now
	}
	// Most money pays an order still waiting for it: the order and the
	// attempt are paid by one guarded statement. Otherwise the order says
	// what the money is.
	change := cashier.PaymentChange{Status: cashier.PaymentPaid, At: now, ChannelTradeNo: n.ChannelTradeNo, PaidAt: paidAt}
	order, attemptPaid, err := tx.PayPendingOrder(ctx, p.OrderID, paidAt, p.Amount, p.ID, change)
	if err != nil {
		return err
	}
	orderPaid, was := order != nil, cashier.OrderPending
	if orderPaid && !attemptPaid {
		return errRaced
	}
	if !orderPaid {
		if order, err = tx.OrderHead(ctx, p.OrderID); err != nil {
			return err
		}
		was = order.Status
		if was == cashier.OrderClosed && s.honoursLate(p.Channel) {
			orderPaid, err = tx.TransitionOrder(ctx, order.ID, was,
				cashier.OrderChange{Status: cashier.OrderPaid, At: paidAt, PaidAmount: p.Amount})
			if err != nil {
				return err
			}
		}
		if !orderPaid {
			change.Status = cashier.PaymentNeedsRefund
		}
		ok, err := tx.TransitionPayment(ctx, p.ID, cashier.PaidFrom(), change)
		if err != nil {
			return err
		}
		if !ok {
			return errRaced
		}
	}
	data := map[string]any{
		"order_id": order.ID, "user_id": order.UserID, "payment_id": p.ID, "out_trade_no": p.OutTradeNo,
		"channel": p.Channel, "gateway": p.Gateway, "amount": p.Amount, "channel_trade_no": n.ChannelTradeNo,
		"paid_at": paidAt.UTC(),
	}
	if !orderPaid {
		return s.applyLate(ctx, tx, order, p, data, rc)
	}
	if was == cashier.OrderClosed {
		data["paid_after_close"] = true
		s.log.WarnContext(ctx, "a store purchase pays an order cashier had closed", "order_id", order.ID, "out_trade_no", p.OutTradeNo)
	}
	if order.CouponID != 0 {
		if _, err := tx.TransitionCoupon(ctx, order.CouponID, cashier.CouponLocked, cashier.CouponUsed, order.ID); err != nil {
			return err
		}
	}
	rc.Outcome, rc.Detail = cashier.InboundApplied, "order paid"
	return s.insertEvent(ctx, tx, cashier.EventOrderPaid, order.ID, now, data)
}

// applyLate deals with money for an order already paid or closed: the
// attempt needs a refund, which starts at once unless operators decide.
func (s *Service) applyLate(ctx context.Context, tx cashier.Tx, order *cashier.Order, p *cashier.Payment, data map[string]any, rc *Receipt) error {
	rc.Outcome = cashier.InboundApplied
	rc.Detail = fmt.Sprintf("late payment: order is %s, payment needs a refund", order.Status)
	s.log.WarnContext(ctx, "payment for an order that no longer needs it: needs refund", "order_id", order.ID,
		"order_status", order.Status, "out_trade_no", p.OutTradeNo, "amount", p.Amount)
	data["order_status"] = order.Status
	now := s.now()
	if err := s.refundLatePayment(ctx, tx, p, now); err != nil {
		return err
	}
	return s.insertEvent(ctx, tx, cashier.EventPaymentLate, order.ID, now, data)
}

// PurgeRejectedMessages deletes the messages that failed verification and
// are older than retention; genuine messages are kept.
func (s *Service) PurgeRejectedMessages(ctx context.Context, retention time.Duration) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		n, err := tx.PurgeUnverifiedInbound(ctx, s.now().Add(-retention))
		if err == nil && n > 0 {
			s.log.InfoContext(ctx, "rejected notifications purged", "count", n, "older_than", retention.String())
		}
		return err
	})
}
