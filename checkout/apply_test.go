package checkout

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore/storetest"
)

// Every combination of attempt status, order status and notified status, and
// what applying the notification must leave behind.
func TestApplyTransitions(t *testing.T) {
	type state struct {
		payment cashier.PaymentStatus
		order   cashier.OrderStatus
	}
	cases := []struct {
		have    state
		notify  cashier.NotifyStatus
		want    state
		outcome string
		event   string
	}{
		// Paid: the order takes the money if it still needs it, else it goes back.
		{state{cashier.PaymentPending, cashier.OrderPending}, cashier.NotifyPaid, state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.InboundApplied, cashier.EventOrderPaid},
		{state{cashier.PaymentClosed, cashier.OrderPending}, cashier.NotifyPaid, state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.InboundApplied, cashier.EventOrderPaid},
		{state{cashier.PaymentFailed, cashier.OrderPending}, cashier.NotifyPaid, state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.InboundApplied, cashier.EventOrderPaid},
		{state{cashier.PaymentPending, cashier.OrderPaid}, cashier.NotifyPaid, state{cashier.PaymentNeedsRefund, cashier.OrderPaid}, cashier.InboundApplied, cashier.EventPaymentLate},
		{state{cashier.PaymentClosed, cashier.OrderPaid}, cashier.NotifyPaid, state{cashier.PaymentNeedsRefund, cashier.OrderPaid}, cashier.InboundApplied, cashier.EventPaymentLate},
		{state{cashier.PaymentClosed, cashier.OrderClosed}, cashier.NotifyPaid, state{cashier.PaymentNeedsRefund, cashier.OrderClosed}, cashier.InboundApplied, cashier.EventPaymentLate},
		{state{cashier.PaymentPending, cashier.OrderClosed}, cashier.NotifyPaid, state{cashier.PaymentNeedsRefund, cashier.OrderClosed}, cashier.InboundApplied, cashier.EventPaymentLate},
		{state{cashier.PaymentPending, cashier.OrderRefunded}, cashier.NotifyPaid, state{cashier.PaymentNeedsRefund, cashier.OrderRefunded}, cashier.InboundApplied, cashier.EventPaymentLate},
		// Already settled attempts: nothing changes.
		{state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.NotifyPaid, state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.InboundDuplicate, ""},
		{state{cashier.PaymentNeedsRefund, cashier.OrderPaid}, cashier.NotifyPaid, state{cashier.PaymentNeedsRefund, cashier.OrderPaid}, cashier.InboundDuplicate, ""},
		{state{cashier.PaymentRefunded, cashier.OrderClosed}, cashier.NotifyPaid, state{cashier.PaymentRefunded, cashier.OrderClosed}, cashier.InboundDuplicate, ""},
		// Closed or failed at the channel: only a pending attempt changes; the order never does.
		{state{cashier.PaymentPending, cashier.OrderPending}, cashier.NotifyClosed, state{cashier.PaymentClosed, cashier.OrderPending}, cashier.InboundApplied, ""},
		{state{cashier.PaymentPending, cashier.OrderPending}, cashier.NotifyFailed, state{cashier.PaymentFailed, cashier.OrderPending}, cashier.InboundApplied, ""},
		{state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.NotifyClosed, state{cashier.PaymentPaid, cashier.OrderPaid}, cashier.InboundIgnored, ""},
		{state{cashier.PaymentClosed, cashier.OrderClosed}, cashier.NotifyClosed, state{cashier.PaymentClosed, cashier.OrderClosed}, cashier.InboundIgnored, ""},
		// Not paid yet: nothing to do.
		{state{cashier.PaymentPending, cashier.OrderPending}, cashier.NotifyPending, state{cashier.PaymentPending, cashier.OrderPending}, cashier.InboundIgnored, ""},
	}
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		s := New(Config{Store: db, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		for i, c := range cases {
			name := fmt.Sprintf("%s+%s/%s", c.have.payment, c.have.order, c.notify)
			t.Run(name, func(t *testing.T) {
				otn := fmt.Sprintf("ALI%d", i)
				var orderID, paymentID int64
				err := db.Update(ctx, func(tx cashier.Tx) error {
					o := &cashier.Order{UserID: "u", Kind: cashier.KindPackage, Status: c.have.order, Amount: 600, Payable: 600,
						PaidAmount: 600, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
					if c.have.order == cashier.OrderPending || c.have.order == cashier.OrderClosed {
						o.PaidAmount = 0
					}
					if err := tx.InsertOrder(ctx, o); err != nil {
						return err
					}
					p := &cashier.Payment{OrderID: o.ID, OutTradeNo: otn, Channel: "alipay", Amount: 600, Status: c.have.payment, CreatedAt: now}
					if err := tx.InsertPayment(ctx, p); err != nil {
						return err
					}
					orderID, paymentID = o.ID, p.ID
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				rc := &Receipt{}
				n := &cashier.Notification{OutTradeNo: otn, ChannelTradeNo: "T" + otn, Amount: 600, Status: c.notify, RawStatus: string(c.notify)}
				if err := db.Update(ctx, func(tx cashier.Tx) error { return s.apply(ctx, tx, "alipay", n, rc) }); err != nil {
					t.Fatal(err)
				}
				if rc.Outcome != c.outcome {
					t.Errorf("outcome %q (%s), want %q", rc.Outcome, rc.Detail, c.outcome)
				}
				var o *cashier.Order
				var events []cashier.Event
				db.View(ctx, func(tx cashier.Tx) (err error) {
					if o, err = tx.Order(ctx, orderID); err != nil {
						return err
					}
					events, err = tx.EventsByOrder(ctx, orderID)
					return err
				})
				if o.Status != c.want.order || o.Payments[0].ID != paymentID || o.Payments[0].Status != c.want.payment {
					t.Errorf("order %s, payment %s; want %s, %s", o.Status, o.Payments[0].Status, c.want.order, c.want.payment)
				}
				if c.want.order == cashier.OrderPaid && c.have.order == cashier.OrderPending && (o.PaidAmount != 600 || o.PaidAt.IsZero()) {
					t.Errorf("paid order: paid_amount %d, paid_at %v", o.PaidAmount, o.PaidAt)
				}
				switch {
				case c.event == "" && len(events) != 0:
					t.Errorf("events %v, want none", events)
				case c.event != "" && (len(events) != 1 || events[0].Type != c.event):
					t.Errorf("events %v, want one %s", events, c.event)
				}
			})
		}
	})
}

// Notifications that do not match their attempt are rejected and change nothing.
func TestApplyRejects(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		s := New(Config{Store: db, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		pendingAttempt(t, db, now, "alipay", "ALI1")
		for _, c := range []struct {
			name    string
			channel string
			n       cashier.Notification
		}{
			{"unknown out_trade_no", "alipay", cashier.Notification{OutTradeNo: "ALI2", Amount: 600, Status: cashier.NotifyPaid}},
			{"amount too small", "alipay", cashier.Notification{OutTradeNo: "ALI1", Amount: 1, Status: cashier.NotifyPaid}},
			{"amount too large", "alipay", cashier.Notification{OutTradeNo: "ALI1", Amount: 601, Status: cashier.NotifyPaid}},
			{"another channel's attempt", "wechat", cashier.Notification{OutTradeNo: "ALI1", Amount: 600, Status: cashier.NotifyPaid}},
			{"paid without an amount", "alipay", cashier.Notification{OutTradeNo: "ALI1", Status: cashier.NotifyPaid}},
			{"failure notice with another amount", "alipay", cashier.Notification{OutTradeNo: "ALI1", Amount: 1, Status: cashier.NotifyFailed}},
			{"close notice with another amount", "alipay", cashier.Notification{OutTradeNo: "ALI1", Amount: 601, Status: cashier.NotifyClosed}},
		} {
			rc := &Receipt{}
			if err := db.Update(ctx, func(tx cashier.Tx) error { return s.apply(ctx, tx, c.channel, &c.n, rc) }); err != nil {
				t.Fatal(err)
			}
			if rc.Outcome != cashier.InboundRejected || rc.Reason != RejectMismatch {
				t.Errorf("%s: outcome %q, reason %q", c.name, rc.Outcome, rc.Reason)
			}
		}
		db.View(ctx, func(tx cashier.Tx) error {
			p, err := tx.PaymentByOutTradeNo(ctx, "ALI1")
			if err != nil || p.Status != cashier.PaymentPending {
				t.Errorf("payment after rejects: %+v %v", p, err)
			}
			return nil
		})
	})
}

// A notice that the payment failed or closed may carry no amount (WeChat v2's
// result_code FAIL has no total_fee): it is applied by its result.
func TestApplyUnpaidNoticeWithoutAmount(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		s := New(Config{Store: db, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		for i, to := range []cashier.NotifyStatus{cashier.NotifyFailed, cashier.NotifyClosed} {
			otn := fmt.Sprintf("WX%d", i)
			pendingAttempt(t, db, now, "wechat", otn)
			rc := &Receipt{}
			n := &cashier.Notification{OutTradeNo: otn, Status: to, RawStatus: "FAIL NOTENOUGH"}
			if err := db.Update(ctx, func(tx cashier.Tx) error { return s.apply(ctx, tx, "wechat", n, rc) }); err != nil {
				t.Fatal(err)
			}
			var p *cashier.Payment
			db.View(ctx, func(tx cashier.Tx) (err error) { p, err = tx.PaymentByOutTradeNo(ctx, otn); return err })
			want := map[cashier.NotifyStatus]cashier.PaymentStatus{cashier.NotifyFailed: cashier.PaymentFailed, cashier.NotifyClosed: cashier.PaymentClosed}[to]
			if rc.Outcome != cashier.InboundApplied || p.Status != want {
				t.Errorf("%s without an amount: outcome %q (%s), payment %s; want applied, %s", to, rc.Outcome, rc.Detail, p.Status, want)
			}
		}
	})
}

// pendingAttempt writes a pending 6-yuan package order with one pending
// attempt of channel.
func pendingAttempt(t *testing.T, db cashier.Store, now time.Time, channel, outTradeNo string) {
	t.Helper()
	ctx := context.Background()
	err := db.Update(ctx, func(tx cashier.Tx) error {
		o := &cashier.Order{UserID: "u", Kind: cashier.KindPackage, Status: cashier.OrderPending, Amount: 600, Payable: 600, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		return tx.InsertPayment(ctx, &cashier.Payment{OrderID: o.ID, OutTradeNo: outTradeNo, Channel: channel, Amount: 600, Status: cashier.PaymentPending, CreatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bindingChannel is a channel whose notifications carry the trade number its
// Prepare gave (as AdaPay's do).
type bindingChannel struct{ cashier.Channel }

func (bindingChannel) Name() string              { return "adapay" }
func (bindingChannel) BindsChannelTradeNo() bool { return true }

// For a channel that binds its trade numbers, a genuine notification about
// another trade with our out_trade_no (or our refund number) is rejected:
// the payment is not paid, the refund not settled.
func TestApplyBindsTradeNumbers(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		s := New(Config{Store: db, Channels: []cashier.Channel{bindingChannel{}}, Now: func() time.Time { return now },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		var refundNo string
		err := db.Update(ctx, func(tx cashier.Tx) error {
			for i, status := range []cashier.PaymentStatus{cashier.PaymentPending, cashier.PaymentNeedsRefund} {
				o := &cashier.Order{UserID: "u", Kind: cashier.KindPackage, Status: cashier.OrderPending, Amount: 600, Payable: 600, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := tx.InsertOrder(ctx, o); err != nil {
					return err
				}
				p := &cashier.Payment{OrderID: o.ID, OutTradeNo: fmt.Sprintf("ADA%d", i), ChannelTradeNo: fmt.Sprintf("0021OURS%d", i),
					Channel: "adapay", Amount: 600, Status: status, CreatedAt: now}
				if err := tx.InsertPayment(ctx, p); err != nil {
					return err
				}
				if status == cashier.PaymentNeedsRefund {
					refundNo = "RF1"
					if err := tx.InsertRefund(ctx, &cashier.Refund{OrderID: o.ID, PaymentID: p.ID, OutRefundNo: refundNo, Amount: 600,
						Status: cashier.RefundPending, CreatedAt: now}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		paid := func(tradeNo string) *cashier.Notification {
			return &cashier.Notification{OutTradeNo: "ADA0", ChannelTradeNo: tradeNo, Amount: 600, Status: cashier.NotifyPaid}
		}
		refundFailed := func(tradeNo string) *cashier.Notification {
			return &cashier.Notification{ChannelTradeNo: tradeNo, Refund: &cashier.RefundResult{OutRefundNo: refundNo, Status: cashier.RefundFailed}}
		}
		// states is the statuses of the pending attempt and of the refund.
		states := func() (s [2]string) {
			db.View(ctx, func(tx cashier.Tx) error {
				p, _ := tx.PaymentByOutTradeNo(ctx, "ADA0")
				r, _ := tx.RefundByOutRefundNo(ctx, refundNo)
				s = [2]string{string(p.Status), string(r.Status)}
				return nil
			})
			return s
		}
		for _, c := range []struct {
			name    string
			n       *cashier.Notification
			outcome string
		}{
			{"paid, another trade", paid("0021THEIRS"), cashier.InboundRejected},
			{"paid, no trade number", paid(""), cashier.InboundRejected},
			{"refund failed, another trade", refundFailed("0021THEIRS"), cashier.InboundRejected},
			{"paid, our trade", paid("0021OURS0"), cashier.InboundApplied},
			{"refund failed, our trade", refundFailed("0021OURS1"), cashier.InboundApplied},
		} {
			before := states()
			rc := &Receipt{}
			if err := db.Update(ctx, func(tx cashier.Tx) error { return s.apply(ctx, tx, "adapay", c.n, rc) }); err != nil {
				t.Fatal(err)
			}
			after := states()
			if rc.Outcome != c.outcome || (c.outcome == cashier.InboundRejected) != (before == after) {
				t.Errorf("%s: outcome %q (%s), payment and refund %v → %v", c.name, rc.Outcome, rc.Detail, before, after)
			}
		}
	})
}
