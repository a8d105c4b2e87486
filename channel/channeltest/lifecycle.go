package channeltest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"cashier"
	"cashier/sandbox"
)

// The order's life around its channel, by the clock of the cashier under
// test: River schedules by it, so moving it runs the jobs that are due.

// jobsWait bounds a wait for River: its scheduler moves due jobs every few
// seconds.
const jobsWait = 30 * time.Second

// repayAndCancel: paying again makes a new attempt and closes the first;
// cancelling closes the order; money that still arrives is late: the
// attempt needs a refund, which a Refunder makes — or, from an app store
// whose channel honours late purchases, pays the order.
func (c *cashierUnderTest) repayAndCancel(t *testing.T) {
	gw := gateways(c.ch)[0]
	id, first := c.mustBuy(t, gw)
	r := c.call(t, "POST", "/api/v1/orders/"+id+"/pay", c.token, "application/x-www-form-urlencoded", "channel="+c.name+"&gateway="+gw)
	if r.Status != 200 {
		t.Fatalf("pay again: %d %s", r.Status, r.Message)
	}
	o := c.order(t, id)
	if len(o.Payments) != 2 || o.Payments[0].Status != "closed" || o.Payments[1].Status != "pending" || o.Payments[0].OutTradeNo != first {
		t.Fatalf("after paying again: %+v", o.Payments)
	}
	second := o.Payments[1].OutTradeNo
	if r := c.call(t, "POST", "/api/v1/orders/"+id+"/cancel", c.token, "", ""); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Message)
	}
	if o := c.order(t, id); o.Status != "closed" {
		t.Fatalf("cancelled order is %s", o.Status)
	}
	ans, err := c.sim.Pay(context.Background(), second, true, false)
	var rf *sandbox.Refusal
	if errors.As(err, &rf) && rf.Status == http.StatusConflict {
		return // closed at the channel too: the buyer cannot pay it any more
	} else if err != nil {
		t.Fatal(err)
	}
	if !c.acknowledges(cashier.NotifyReply{Status: ans.NotifyStatus, Body: []byte(ans.NotifyReply)}, ans.Notification) {
		t.Errorf("late notification answered %d %q", ans.NotifyStatus, ans.NotifyReply)
	}
	if pv, ok := c.ch.(cashier.PurchaseVerifier); ok && pv.HonoursLatePurchases() {
		// The store's money cannot be given back from the server: the
		// purchase pays the closed order, once.
		if o := c.order(t, id); o.Status != "paid" || o.Payments[1].Status != "paid" || o.PaidAmount != o.Payable {
			t.Errorf("a late store purchase left the order %s, its attempt %s", o.Status, o.Payments[1].Status)
		}
		if n := c.count(t, "SELECT COUNT(*) FROM events WHERE type = 'order.paid' AND order_id = ?", id); n != 1 {
			t.Errorf("%d order.paid events", n)
		}
		return
	}
	want := "needs_refund"
	if _, ok := c.ch.(cashier.Refunder); ok {
		want = "refunded"
	}
	settler, _ := c.sim.(sandbox.RefundSettler)
	c.eventuallyAdvancing(t, "the late payment is "+want, func() bool {
		if settler != nil {
			settler.SettlePendingRefunds(context.Background())
		}
		return c.order(t, id).Payments[1].Status == want
	})
	if o := c.order(t, id); o.Status != "closed" {
		t.Errorf("the late payment changed the closed order to %s", o.Status)
	}
}

// eventuallyAdvancing polls cond, moving the clock on by half a minute now
// and then: a refund the channel keeps pending is asked about again after a
// wait, by the clock.
func (c *cashierUnderTest) eventuallyAdvancing(t *testing.T, what string, cond func() bool) {
	t.Helper()
	polls := 0
	eventually(t, what, jobsWait, func() bool {
		if polls++; polls%10 == 0 {
			c.clock.Advance(30 * time.Second)
		}
		return cond()
	})
}

// expiry: an unpaid order closes when it expires.
func (c *cashierUnderTest) expiry(t *testing.T) {
	id, _ := c.mustBuy(t, gateways(c.ch)[0])
	c.clock.Advance(31 * time.Minute)
	eventually(t, "the order expires", jobsWait, func() bool { return c.order(t, id).Status == "closed" })
}

// lostNotification: a payment whose notification never came is found by
// asking the channel (a Querier); for any other channel, no polling job is
// ever scheduled.
func (c *cashierUnderTest) lostNotification(t *testing.T) {
	if _, ok := c.ch.(cashier.Querier); !ok {
		// Nothing can be asked: no job is scheduled to ask.
		if n := c.count(t, "SELECT COUNT(*) FROM river_job WHERE kind = 'poll_payment'"); n != 0 {
			t.Errorf("%d jobs would ask %s, which cannot be asked, about its trades", n, c.name)
		}
		// Nor is one due later: the attempts carry no poll time.
		if n := c.count(t, "SELECT COUNT(*) FROM payments WHERE poll_at IS NOT NULL"); n != 0 {
			t.Errorf("%d attempts of %s, which cannot be asked, are scheduled to be asked about", n, c.name)
		}
		t.Skipf("%s cannot be asked about a trade", c.name)
	}
	id, otn, _ := c.buyPaid(t, true)
	c.clock.Advance(3 * time.Minute)
	eventually(t, "polling finds the payment", jobsWait, func() bool { return c.order(t, id).Status == "paid" })
	ms := c.outcomes(t, otn)
	if len(ms) != 1 || ms[0].Method != "QUERY" || ms[0].Outcome != cashier.InboundApplied {
		t.Errorf("recorded %+v, want the channel's answer, applied", ms)
	}
}
