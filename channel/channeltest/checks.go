package channeltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"cashier"
	"cashier/sandbox"
)

// payEveryGateway: an order through each gateway, paid at the simulator
// (the first through POST /sandbox/{channel}/pay, as a person would), is
// paid once, by a notification cashier acknowledges; its attempt's number
// has the channel's prefix.
func (c *cashierUnderTest) payEveryGateway(t *testing.T) {
	for i, gw := range gateways(c.ch) {
		id, otn := c.mustBuy(t, gw)
		if !strings.HasPrefix(otn, c.prefix) {
			t.Errorf("%s: out_trade_no %s does not start with %s", gw, otn, c.prefix)
		}
		var ans *sandbox.PayAnswer
		var err error
		if i == 0 {
			ans, err = c.payByRoute(t, otn)
		} else {
			ans, err = c.sim.Pay(context.Background(), otn, true, false)
		}
		if err != nil {
			t.Fatalf("%s: pay at the simulator: %v", gw, err)
		}
		reply := cashier.NotifyReply{Status: ans.NotifyStatus, Body: []byte(ans.NotifyReply)}
		switch {
		case !ans.Paid || ans.NotifyStatus == 0:
			t.Errorf("%s: the simulator answered %+v", gw, ans)
		case ans.Notification != nil && !c.acknowledges(reply, ans.Notification):
			t.Errorf("%s: cashier answered the notification %d %q, not the channel's acknowledgement", gw, ans.NotifyStatus, ans.NotifyReply)
		}
		o := c.order(t, id)
		if o.Status != "paid" || o.PaidAmount != o.Payable || o.Payments[0].Status != "paid" {
			t.Errorf("%s: after paying, order %s (paid %d of %d), attempt %s", gw, o.Status, o.PaidAmount, o.Payable, o.Payments[0].Status)
		}
		if ms := c.outcomes(t, otn); len(ms) != 1 || ms[0].Outcome != cashier.InboundApplied || !ms[0].Verified {
			t.Errorf("%s: recorded messages %+v, want one applied", gw, ms)
		}
	}
}

// payByRoute pays an attempt through POST /sandbox/{channel}/pay.
func (c *cashierUnderTest) payByRoute(t *testing.T, otn string) (*sandbox.PayAnswer, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", c.url+"/sandbox/"+c.name+"/pay", strings.NewReader(url.Values{"out_trade_no": {otn}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ans sandbox.PayAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("POST /sandbox/%s/pay: %d %v", c.name, resp.StatusCode, err)
	}
	return &ans, nil
}

// listed: the admin API lists the channel, enabled, with its gateways.
func (c *cashierUnderTest) listed(t *testing.T) {
	r := c.call(t, "GET", "/admin/api/channels", c.app.AdminToken, "", "")
	var list []struct {
		Name     string   `json:"name"`
		Enabled  bool     `json:"enabled"`
		Gateways []string `json:"gateways"`
		Prefix   string   `json:"out_trade_no_prefix"`
	}
	json.Unmarshal(r.Data, &list)
	for _, ch := range list {
		if ch.Name == c.name {
			if !ch.Enabled || ch.Prefix != c.prefix || strings.Join(ch.Gateways, ",") != strings.Join(c.ch.Gateways(), ",") {
				t.Errorf("listed as %+v", ch)
			}
			return
		}
	}
	t.Errorf("GET /admin/api/channels does not list %s: %s", c.name, r.Data)
}

// concurrentDuplicates: the same genuine notification twenty times at once
// changes the order once, and every delivery is acknowledged.
func (c *cashierUnderTest) concurrentDuplicates(t *testing.T) {
	id, otn, ans := c.buyPaid(t, true)
	replies := make([]cashier.NotifyReply, 20)
	errs := make([]error, len(replies))
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() {
			// Not c.post: t.Fatal must not be called off the test's goroutine.
			status, body, err := sandbox.Deliver(context.Background(), http.DefaultClient, ans.Notification)
			replies[i], errs[i] = cashier.NotifyReply{Status: status, Body: []byte(body)}, err
		})
	}
	wg.Wait()
	for i, r := range replies {
		if errs[i] != nil || !c.acknowledges(r, ans.Notification) {
			t.Errorf("delivery %d answered %d %q (%v)", i, r.Status, r.Body, errs[i])
		}
	}
	applied, duplicates := 0, 0
	for _, m := range c.outcomes(t, otn) {
		switch m.Outcome {
		case cashier.InboundApplied:
			applied++
		case cashier.InboundDuplicate:
			duplicates++
		default:
			t.Errorf("outcome %s (%s)", m.Outcome, m.Detail)
		}
	}
	if applied != 1 || duplicates != 19 {
		t.Errorf("%d applied, %d duplicates; want 1 and 19", applied, duplicates)
	}
	if n := c.count(t, "SELECT COUNT(*) FROM events WHERE type = 'order.paid' AND order_id = ?", id); n != 1 {
		t.Errorf("%d order.paid events", n)
	}
	if o := c.order(t, id); o.Status != "paid" {
		t.Errorf("order %s", o.Status)
	}
}

// forgeries: a forged and a tampered notification are recorded as rejected
// and unverified, answered "resend", and change nothing; the genuine one
// then pays the order.
func (c *cashierUnderTest) forgeries(t *testing.T) {
	id, otn, ans := c.buyPaid(t, true)
	// Forged and tampered messages are answered "resend" (if our key is
	// wrong, the resends give an operator time) and recorded in part.
	// Genuine messages not for this attempt or this app are acknowledged (a
	// resend would say the same) and recorded whole. None changes the order.
	type forgery struct {
		how     sandbox.Forgery
		genuine bool
	}
	forgeries := []forgery{{sandbox.Forged, false}, {sandbox.Tampered, false}, {sandbox.OtherAmount, true}, {sandbox.OtherApp, true}}
	if b, ok := c.ch.(cashier.TradeNoBinder); ok && b.BindsChannelTradeNo() {
		forgeries = append(forgeries, forgery{sandbox.OtherTrade, true})
	}
	sent := 0
	for _, f := range forgeries {
		recorded := "SELECT COUNT(*) FROM inbound_messages WHERE outcome = 'rejected' AND NOT verified"
		if f.genuine {
			recorded = "SELECT COUNT(*) FROM inbound_messages WHERE outcome = 'rejected' AND verified"
		}
		before := c.count(t, recorded)
		m, err := c.sim.Forge(ans.Notification, f.how)
		if errors.Is(err, sandbox.ErrNoSuchMessage) {
			t.Logf("%s: %v", f.how, err)
			continue
		} else if err != nil {
			t.Fatalf("%s: %v", f.how, err)
		}
		sent++
		if r := c.post(t, m); f.genuine != c.acknowledges(r, m) || !f.genuine && !c.asksResend(r, m) {
			t.Errorf("notification (%s) answered %d %q", f.how, r.Status, r.Body)
		}
		if after := c.count(t, recorded); after != before+1 {
			t.Errorf("notification (%s): %d rejected messages recorded, want 1", f.how, after-before)
		}
		if o := c.order(t, id); o.Status != "pending" || o.Payments[0].Status != "pending" {
			t.Fatalf("notification (%s) changed the order: %s, attempt %s", f.how, o.Status, o.Payments[0].Status)
		}
	}
	if r := c.post(t, ans.Notification); !c.acknowledges(r, ans.Notification) {
		t.Errorf("the genuine notification answered %d %q", r.Status, r.Body)
	}
	if o := c.order(t, id); o.Status != "paid" {
		t.Errorf("order %s after the genuine notification", o.Status)
	}
	// What cashier notify verify does: the records of the channel's messages
	// verify again, the forged ones do not.
	ms, err := c.app.Checkout.InboundMessages(context.Background(), cashier.InboundFilter{Channel: c.name, Limit: sent + 1})
	if err != nil || len(ms) != sent+1 {
		t.Fatalf("recorded messages: %v %d", err, len(ms))
	}
	for _, m := range ms {
		_, n, err := c.app.Checkout.VerifyInbound(context.Background(), m.ID)
		code := cashier.ErrorCode(err)
		switch {
		case !m.Verified:
			if err == nil {
				t.Errorf("forged message %d verified again", m.ID)
			}
		case m.Outcome == cashier.InboundApplied:
			if err != nil || n.OutTradeNo != otn {
				t.Errorf("genuine message %d verified again: %v", m.ID, err)
			}
		case err != nil && code != cashier.EUNPROCESSABLE:
			t.Errorf("genuine message %d for someone else verified again: %v", m.ID, err)
		}
	}
}

// garbage: what is not a notification of the channel is refused by
// VerifyNotification with EINVALID or EFORBIDDEN, and answered "resend".
func (c *cashierUnderTest) garbage(t *testing.T) {
	for _, body := range []string{"", "not a notification", "{}", "<xml></xml>", "a=1&b=2"} {
		_, err := c.ch.VerifyNotification(context.Background(), &cashier.InboundRequest{Method: "POST", Body: []byte(body)})
		if code := cashier.ErrorCode(err); code != cashier.EINVALID && code != cashier.EFORBIDDEN {
			t.Errorf("VerifyNotification(%q): %v, want invalid or forbidden", body, err)
		}
		if body == "" {
			continue
		}
		m := &sandbox.Message{URL: c.url + "/api/v1/order/notify/" + c.name, Body: []byte(body)}
		if r := c.post(t, m); !c.asksResend(r, m) {
			t.Errorf("body %q answered %d %q", body, r.Status, r.Body)
		}
	}
}

// query: a Querier reports a trade paid at the channel, ENOTFOUND for one
// it does not know, and an error (not "not found") when the channel fails.
func (c *cashierUnderTest) query(t *testing.T) {
	q, ok := c.ch.(cashier.Querier)
	if !ok {
		t.Skipf("%s cannot be asked about a trade", c.name)
	}
	ctx := context.Background()
	id, otn, _ := c.buyPaid(t, true)
	n, err := q.Query(ctx, c.trade(t, id))
	if err != nil || n.Status != cashier.NotifyPaid || n.OutTradeNo != otn || n.Amount != c.order(t, id).Payable {
		t.Errorf("query of a paid trade: %+v %v", n, err)
	}
	if _, err := q.Query(ctx, unknownTrade); cashier.ErrorCode(err) != cashier.ENOTFOUND {
		t.Errorf("query of an unknown trade: %v, want not_found", err)
	}
	defer c.sim.Faults().Clear()
	for name, f := range map[string]sandbox.Fault{"a 5xx": {HTTPStatus: 500}, "an answer signed by another key": {ForgedAnswer: true}} {
		c.sim.Faults().Inject(sandbox.OpQuery, 1, f)
		if _, err := q.Query(ctx, c.trade(t, id)); err == nil || cashier.ErrorCode(err) == cashier.ENOTFOUND {
			t.Errorf("query answered with %s: %v, want an error that is not not_found", name, err)
		}
		if _, left := c.sim.Faults().Take(sandbox.OpQuery); left {
			t.Errorf("query answered with %s: the simulator was not asked", name)
		}
	}
}

// close: closing a trade the channel does not know is no error; closing one
// paid at the channel is ECONFLICT.
func (c *cashierUnderTest) close(t *testing.T) {
	cl, ok := c.ch.(cashier.Closer)
	if !ok {
		t.Skipf("%s cannot close a trade", c.name)
	}
	ctx := context.Background()
	if err := cl.Close(ctx, unknownTrade); err != nil {
		t.Errorf("close of an unknown trade: %v", err)
	}
	id, _, _ := c.buyPaid(t, true)
	if err := cl.Close(ctx, c.trade(t, id)); cashier.ErrorCode(err) != cashier.ECONFLICT {
		t.Errorf("close of a paid trade: %v, want conflict", err)
	}
}

// refund: an operator's partial refund of a paid order, then a refund of
// the rest, go to the channel and settle; nothing more can be refunded; a
// refund the channel does not know is ENOTFOUND.
func (c *cashierUnderTest) refund(t *testing.T) {
	rf, ok := c.ch.(cashier.Refunder)
	if !ok {
		t.Skipf("%s cannot refund", c.name)
	}
	ctx := context.Background()
	id, _, _ := c.buyPaid(t, false)
	payable := c.order(t, id).Payable
	part := max(payable/3, 1)
	settler, _ := c.sim.(sandbox.RefundSettler)
	for _, step := range []struct {
		amount, refunded int64
		status           string
	}{{part, part, "partially_refunded"}, {payable - part, payable, "refunded"}} {
		r := c.call(t, "POST", "/admin/api/orders/"+id+"/refunds", c.app.AdminToken, "application/json",
			fmt.Sprintf(`{"amount": %d, "reason": "conformance"}`, step.amount))
		if r.Status != 202 {
			t.Fatalf("refund of %d: %d %s", step.amount, r.Status, r.Message)
		}
		c.eventuallyAdvancing(t, "the refund of "+cashier.FormatYuan(step.amount)+" yuan settles", func() bool {
			if settler != nil {
				settler.SettlePendingRefunds(ctx)
			}
			o := c.order(t, id)
			return o.Status == step.status && o.Refunded == step.refunded
		})
	}
	if r := c.call(t, "POST", "/admin/api/orders/"+id+"/refunds", c.app.AdminToken, "application/json",
		`{"amount": 1, "reason": "conformance"}`); r.Status < 400 || r.Status >= 500 {
		t.Errorf("refund of a refunded order: %d %s", r.Status, r.Message)
	}
	if _, err := rf.QueryRefund(ctx, c.trade(t, id), "NOSUCHREFUND"); cashier.ErrorCode(err) != cashier.ENOTFOUND {
		t.Errorf("query of an unknown refund: %v, want not_found", err)
	}
}

// gatewayErrors: an unknown gateway is 400; a channel failing while an order
// is placed is 502 and writes nothing, and the order API works again after.
func (c *cashierUnderTest) gatewayErrors(t *testing.T) {
	if len(c.ch.Gateways()) > 0 {
		if r := c.buy(t, "no-such-gateway"); r.Status != 400 {
			t.Errorf("unknown gateway: %d %s", r.Status, r.Message)
		}
	}
	gw := gateways(c.ch)[0]
	for name, f := range map[string]sandbox.Fault{"a 5xx": {HTTPStatus: 500}, "an answer signed by another key": {ForgedAnswer: true}} {
		orders := c.count(t, "SELECT COUNT(*) FROM orders")
		c.sim.Faults().Inject(sandbox.OpPrepare, 1, f)
		r := c.buy(t, gw)
		_, notAsked := c.sim.Faults().Take(sandbox.OpPrepare)
		c.sim.Faults().Clear()
		switch {
		case r.Status == 200 && notAsked: // the channel's credential is made without a call
		case r.Status == 200:
			t.Errorf("order while the channel answers %s: made", name)
		case r.Status != 502:
			t.Errorf("order while the channel answers %s: %d %s, want 502", name, r.Status, r.Message)
		case c.count(t, "SELECT COUNT(*) FROM orders") != orders:
			t.Errorf("an order the channel answered with %s was written", name)
		}
	}
	if r := c.buy(t, gw); r.Status != 200 {
		t.Errorf("order after the channel recovered: %d %s", r.Status, r.Message)
	}
}
