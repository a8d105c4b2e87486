package checkout

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"cashier"
)

// Refunds: an operator refunds all or part of a paid order; money that
// arrived for an order that no longer needed it is refunded by itself. A
// refund is written (and its amount reserved against the order) in one
// transaction with the job that sends it to the channel; the job settles it.

// refundRefusals is how many times a channel must refuse a refund before it
// is settled as failed.
const refundRefusals = 3

// refundPollLimit is how long a refund the channel keeps pending is asked
// about; WeChat settles within days.
const refundPollLimit = 7 * 24 * time.Hour

func newOutRefundNo(now time.Time) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e10))
	if err != nil {
		return "", fmt.Errorf("out_refund_no: %w", err)
	}
	return fmt.Sprintf("RF%s%010d", now.UTC().Format("20060102150405"), n.Int64()), nil
}

// RefundOrder refunds amount fen of a paid order. The order's refunded total
// never exceeds what was paid, also under concurrent requests.
func (s *Service) RefundOrder(ctx context.Context, orderID, amount int64, reason string) (*cashier.Refund, error) {
	reason = strings.TrimSpace(reason)
	if amount < 1 {
		return nil, cashier.Errorf(cashier.EINVALID, "amount must be a positive number of fen")
	}
	if utf8.RuneCountInString(reason) > 256 {
		return nil, cashier.Errorf(cashier.EINVALID, "reason is longer than 256 characters")
	}
	now := s.now()
	no, err := newOutRefundNo(now)
	if err != nil {
		return nil, err
	}
	r := &cashier.Refund{OrderID: orderID, OutRefundNo: no, Amount: amount, Reason: reason,
		Status: cashier.RefundPending, CreatedAt: now}
	err = s.store.Update(ctx, func(tx cashier.Tx) error {
		o, err := tx.Order(ctx, orderID)
		if err != nil {
			return err
		}
		switch o.Status {
		case cashier.OrderPaid, cashier.OrderFulfilled, cashier.OrderRefunding, cashier.OrderPartiallyRefunded:
		default:
			return cashier.Errorf(cashier.ECONFLICT, "order %d is %s: only a paid order can be refunded", o.ID, o.Status)
		}
		if o.CostClaimedBy != 0 {
			return cashier.Errorf(cashier.ECONFLICT, "order %d is the credit of upgrade order %d: refund that order, or close it first", o.ID, o.CostClaimedBy)
		}
		var paid *cashier.Payment
		for i := range o.Payments {
			if o.Payments[i].Status == cashier.PaymentPaid {
				paid = &o.Payments[i]
			}
		}
		if paid == nil {
			return cashier.Errorf(cashier.ECONFLICT, "order %d has no paid payment to refund", o.ID)
		}
		if _, ok := s.channels[paid.Channel].(cashier.Refunder); !ok {
			return cashier.Errorf(cashier.EUNPROCESSABLE, "channel %s cannot refund", paid.Channel)
		}
		ok, err := tx.ReserveRefund(ctx, o.ID, amount)
		if err != nil {
			return err
		}
		if !ok {
			return cashier.Errorf(cashier.EUNPROCESSABLE, "a refund of %s yuan is more than the %s yuan left to refund",
				cashier.FormatYuan(amount), cashier.FormatYuan(o.PaidAmount-o.Refunded))
		}
		// The reservation above locked the order: these guarded updates see
		// any refund that settled meanwhile. At most one of them matches.
		for _, from := range []cashier.OrderStatus{cashier.OrderPaid, cashier.OrderFulfilled, cashier.OrderPartiallyRefunded} {
			if _, err := tx.TransitionOrder(ctx, o.ID, from, cashier.OrderChange{Status: cashier.OrderRefunding, At: now}); err != nil {
				return err
			}
		}
		r.PaymentID = paid.ID
		if err := tx.InsertRefund(ctx, r); err != nil {
			return err
		}
		return s.jobs.ProcessRefund(ctx, tx, r.ID)
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "refund requested", "order_id", orderID, "refund_id", r.ID, "amount", amount, "out_refund_no", no)
	return r, nil
}

// RefundLatePayment refunds in full an attempt marked needs_refund (money
// that arrived for an order that no longer needed it), for operators who
// decide those themselves (late_refunds: manual). Asking twice does not
// refund twice.
func (s *Service) RefundLatePayment(ctx context.Context, paymentID int64) (*cashier.Refund, error) {
	var r *cashier.Refund
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		p, refunds, err := lockNeedsRefund(ctx, tx, paymentID, "is refunded this way")
		if err != nil {
			return err
		}
		for i := range refunds {
			if refunds[i].Status != cashier.RefundFailed {
				r = &refunds[i]
				return nil // already under way or done
			}
		}
		if _, ok := s.channels[p.Channel].(cashier.Refunder); !ok {
			return cashier.Errorf(cashier.EUNPROCESSABLE, "channel %s cannot refund", p.Channel)
		}
		r, err = s.startLateRefund(ctx, tx, p, s.now())
		return err
	})
	return r, err
}

// lockNeedsRefund locks payment id, so that two operators acting on it at
// once are served one after the other, and returns it with its refunds; it
// must need a refund for what (an operator's action) to be done to it.
func lockNeedsRefund(ctx context.Context, tx cashier.Tx, id int64, what string) (*cashier.Payment, []cashier.Refund, error) {
	if err := tx.LockPayment(ctx, id); err != nil {
		return nil, nil, err
	}
	p, err := tx.Payment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if p.Status != cashier.PaymentNeedsRefund {
		return nil, nil, cashier.Errorf(cashier.ECONFLICT, "payment %d is %s: only a payment that needs a refund %s", p.ID, p.Status, what)
	}
	all, err := tx.RefundsByOrder(ctx, p.OrderID)
	if err != nil {
		return nil, nil, err
	}
	var refunds []cashier.Refund
	for _, r := range all {
		if r.PaymentID == p.ID {
			refunds = append(refunds, r)
		}
	}
	return p, refunds, nil
}

// refundLatePayment starts refunding money that arrived for an order that no
// longer needs it, unless an operator decides those.
func (s *Service) refundLatePayment(ctx context.Context, tx cashier.Tx, p *cashier.Payment, now time.Time) error {
	if !s.autoRefund {
		return nil
	}
	if _, ok := s.channels[p.Channel].(cashier.Refunder); !ok {
		return nil
	}
	_, err := s.startLateRefund(ctx, tx, p, now)
	return err
}

// startLateRefund writes a full refund of p and schedules sending it.
func (s *Service) startLateRefund(ctx context.Context, tx cashier.Tx, p *cashier.Payment, now time.Time) (*cashier.Refund, error) {
	no, err := newOutRefundNo(now)
	if err != nil {
		return nil, err
	}
	r := &cashier.Refund{OrderID: p.OrderID, PaymentID: p.ID, OutRefundNo: no, Amount: p.Amount,
		Reason: "paid after the order no longer needed it", Status: cashier.RefundPending, CreatedAt: now}
	if err := tx.InsertRefund(ctx, r); err != nil {
		return nil, err
	}
	return r, s.jobs.ProcessRefund(ctx, tx, r.ID)
}

// ProcessRefund sends a pending refund to its channel, or asks how it went,
// and settles it when the channel says. It is safe to run again: the channel
// deduplicates on out_refund_no.
func (s *Service) ProcessRefund(ctx context.Context, refundID int64, attempt int) (again time.Duration, err error) {
	var r *cashier.Refund
	var p *cashier.Payment
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		if r, err = tx.Refund(ctx, refundID); err != nil {
			return err
		}
		p, err = tx.Payment(ctx, r.PaymentID)
		return err
	})
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if r.Status != cashier.RefundPending {
		return 0, nil
	}
	ch, ok := s.channels[p.Channel].(cashier.Refunder)
	if !ok {
		return 0, s.settleRefund(ctx, r.OutRefundNo, cashier.RefundResult{Status: cashier.RefundFailed,
			Detail: "channel " + p.Channel + " cannot refund"})
	}
	res, err := ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: p.OutTradeNo, ChannelTradeNo: p.ChannelTradeNo}, r.OutRefundNo)
	if err != nil && cashier.ErrorCode(err) != cashier.ENOTFOUND {
		// Whether the refund was made is unknown: never settle it as failed
		// on that; River asks again with backoff.
		return 0, err
	}
	if err != nil {
		res, err = ch.Refund(ctx, cashier.RefundRequest{OutTradeNo: p.OutTradeNo, ChannelTradeNo: p.ChannelTradeNo, OutRefundNo: r.OutRefundNo,
			Amount: r.Amount, Total: p.Amount, Reason: r.Reason, NotifyURL: s.urls.NotifyURL(p.Channel)})
	}
	switch code := cashier.ErrorCode(err); {
	case err == nil:
	case code == cashier.ECONFLICT || code == cashier.EINVALID || (code == cashier.ECHANNEL && attempt >= refundRefusals):
		// The channel refused: settle it as failed, with its words. A plain
		// channel error may be an answer that could not be verified, so it is
		// believed only once it is the channel's answer several times over.
		return 0, s.settleRefund(ctx, r.OutRefundNo, cashier.RefundResult{Status: cashier.RefundFailed, Detail: cashier.ErrorMessage(err)})
	default:
		return 0, err // River retries with backoff; the next run asks first
	}
	if res.Status == cashier.RefundPending {
		age := s.now().Sub(r.CreatedAt)
		if age > refundPollLimit {
			s.log.WarnContext(ctx, "refund still pending at its channel: no longer asking; an operator must look",
				"refund_id", r.ID, "order_id", r.OrderID, "out_refund_no", r.OutRefundNo, "age", age.Round(time.Hour))
			return 0, nil
		}
		return min(max(age/2, 30*time.Second), maxPollWait), nil
	}
	return 0, s.settleRefund(ctx, r.OutRefundNo, *res)
}

// settleRefund records a refund's outcome once, with what follows from it.
func (s *Service) settleRefund(ctx context.Context, outRefundNo string, res cashier.RefundResult) error {
	return s.store.Update(ctx, func(tx cashier.Tx) error {
		_, err := s.settleRefundTx(ctx, tx, outRefundNo, res)
		return err
	})
}

// settleRefundTx settles a pending refund as res says and reports whether it
// did (false: it was settled before). A refunded late payment becomes
// refunded; an order refund moves the order on once no refund of it is
// pending, and a failed one gives its amount back.
func (s *Service) settleRefundTx(ctx context.Context, tx cashier.Tx, outRefundNo string, res cashier.RefundResult) (bool, error) {
	if res.Status == cashier.RefundPending {
		return false, nil
	}
	r, err := tx.RefundByOutRefundNo(ctx, outRefundNo)
	if err != nil {
		return false, err
	}
	now := s.now()
	ok, err := tx.TransitionRefund(ctx, r.ID, cashier.RefundPending, cashier.RefundChange{Status: res.Status, At: now,
		ChannelRefundNo: res.ChannelRefundNo, Detail: res.Detail})
	if err != nil || !ok {
		return false, err
	}
	p, err := tx.Payment(ctx, r.PaymentID)
	if err != nil {
		return false, err
	}
	if p.Status == cashier.PaymentNeedsRefund {
		if res.Status == cashier.RefundSucceeded {
			if _, err := tx.TransitionPayment(ctx, p.ID, []cashier.PaymentStatus{cashier.PaymentNeedsRefund},
				cashier.PaymentChange{Status: cashier.PaymentRefunded, At: now}); err != nil {
				return false, err
			}
		}
	} else if err := s.settleOrderRefund(ctx, tx, r, res.Status, now); err != nil {
		return false, err
	}
	typ := cashier.EventRefundSucceeded
	if res.Status == cashier.RefundFailed {
		typ = cashier.EventRefundFailed
		s.log.WarnContext(ctx, "refund failed", "refund_id", r.ID, "order_id", r.OrderID, "detail", res.Detail)
	}
	data := map[string]any{
		"refund_id": r.ID, "order_id": r.OrderID, "payment_id": r.PaymentID, "out_refund_no": r.OutRefundNo,
		"amount": r.Amount, "reason": r.Reason, "status": res.Status, "detail": res.Detail,
	}
	if res.By != "" {
		data["by"] = res.By
	}
	return true, s.insertEvent(ctx, tx, typ, r.OrderID, now, data)
}

// settleOrderRefund moves an order refund's order on.
func (s *Service) settleOrderRefund(ctx context.Context, tx cashier.Tx, r *cashier.Refund, status cashier.RefundStatus, now time.Time) error {
	// Locked first, so that a refund being requested at this moment is seen
	// as pending below, or sees this one settled.
	if err := tx.LockOrder(ctx, r.OrderID); err != nil {
		return err
	}
	if status == cashier.RefundFailed {
		if err := tx.ReleaseRefund(ctx, r.OrderID, r.Amount); err != nil {
			return err
		}
	}
	o, err := tx.Order(ctx, r.OrderID)
	if err != nil {
		return err
	}
	for _, other := range o.Refunds {
		if other.Status == cashier.RefundPending && other.PaymentID == r.PaymentID {
			return nil // the order stays refunding until the last one settles
		}
	}
	if o.Status != cashier.OrderRefunding {
		return nil
	}
	to := cashier.OrderPartiallyRefunded
	switch {
	case o.Refunded >= o.PaidAmount:
		to = cashier.OrderRefunded
	case o.Refunded == 0:
		to = cashier.OrderPaid
	}
	_, err = tx.TransitionOrder(ctx, o.ID, cashier.OrderRefunding, cashier.OrderChange{Status: to, At: now})
	return err
}

// applyRefundNotice applies a channel's refund notification.
func (s *Service) applyRefundNotice(ctx context.Context, tx cashier.Tx, channel string, n *cashier.Notification, rc *Receipt) error {
	r, err := tx.RefundByOutRefundNo(ctx, n.Refund.OutRefundNo)
	if cashier.ErrorCode(err) == cashier.ENOTFOUND {
		return rc.reject("unknown out_refund_no %q", n.Refund.OutRefundNo)
	} else if err != nil {
		return err
	}
	rc.OrderID = r.OrderID
	p, err := tx.Payment(ctx, r.PaymentID)
	if err != nil {
		return err
	}
	if p.Channel != channel || (n.OutTradeNo != "" && n.OutTradeNo != p.OutTradeNo) || s.namesAnotherTrade(p, n.ChannelTradeNo) {
		return rc.reject("refund %s belongs to %s attempt %s (%q), not to %s trade %q (%q)",
			r.OutRefundNo, p.Channel, p.OutTradeNo, p.ChannelTradeNo, channel, n.OutTradeNo, n.ChannelTradeNo)
	}
	if n.Refund.Amount != 0 && n.Refund.Amount != r.Amount {
		return rc.reject("refund amount %s yuan does not match the %s yuan asked",
			cashier.FormatYuan(n.Refund.Amount), cashier.FormatYuan(r.Amount))
	}
	done, err := s.settleRefundTx(ctx, tx, r.OutRefundNo, *n.Refund)
	if err != nil {
		return err
	}
	rc.Outcome, rc.Detail = cashier.InboundApplied, "refund "+string(n.Refund.Status)
	if !done {
		rc.Outcome, rc.Detail = cashier.InboundDuplicate, "refund already "+string(r.Status)
		if n.Refund.Status == cashier.RefundPending {
			rc.Outcome, rc.Detail = cashier.InboundIgnored, "refund still pending"
		}
	}
	return nil
}

// RefundedOutside records that an operator gave back, outside cashier (in
// the channel's console, by bank transfer…), the money of a payment that
// needs a refund: for channels without a refund API, and for a refund that
// could not be made through one. The payment becomes refunded through a
// succeeded refund whose detail says who did it, when, and their note.
func (s *Service) RefundedOutside(ctx context.Context, paymentID int64, operator, note string) (*cashier.Refund, error) {
	operator, note = strings.TrimSpace(operator), strings.TrimSpace(note)
	if operator == "" || note == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "operator and note are required: who refunded, and how (a reference)")
	}
	if utf8.RuneCountInString(operator) > 100 || utf8.RuneCountInString(note) > 500 {
		return nil, cashier.Errorf(cashier.EINVALID, "operator is at most 100 characters, note at most 500")
	}
	var r *cashier.Refund
	err := s.store.Update(ctx, func(tx cashier.Tx) error {
		p, refunds, err := lockNeedsRefund(ctx, tx, paymentID, "can be marked refunded outside cashier")
		if err != nil {
			return err
		}
		for _, other := range refunds {
			if other.Status == cashier.RefundPending {
				return cashier.Errorf(cashier.ECONFLICT, "refund %s of payment %d is under way at the channel: wait for it to settle", other.OutRefundNo, p.ID)
			}
		}
		now := s.now()
		no, err := newOutRefundNo(now)
		if err != nil {
			return err
		}
		r = &cashier.Refund{OrderID: p.OrderID, PaymentID: p.ID, OutRefundNo: no, Amount: p.Amount,
			Reason: "refunded outside cashier", Status: cashier.RefundPending, CreatedAt: now}
		if err := tx.InsertRefund(ctx, r); err != nil {
			return err
		}
		detail := fmt.Sprintf("refunded outside cashier by %s at %s: %s", operator, now.UTC().Format(time.RFC3339), note)
		if _, err := s.settleRefundTx(ctx, tx, no, cashier.RefundResult{OutRefundNo: no, Status: cashier.RefundSucceeded, Amount: p.Amount, Detail: detail}); err != nil {
			return err
		}
		r.Status, r.Detail, r.SettledAt = cashier.RefundSucceeded, detail, now
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "payment refunded outside cashier", "payment_id", paymentID, "operator", operator)
	}
	return r, err
}
