package adapay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"cashier"
	"cashier/sandbox"
)

// pages are the simulator's pages, in the frame of package sandbox.
var pages = sandbox.NewPages(sandbox.Look{Name: "AdaPay", Background: "#f2f5fa", Accent: "#1a5fb4"}, "sandbox adapay", `
{{define "pay"}}<h1>AdaPay sandbox: Alipay QR payment</h1>
<p class="amount">¥{{.Amount}}</p>
<dl><dt>Order</dt><dd>{{.OrderNo}}</dd><dt>Payment</dt><dd>{{.ID}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/adapay/pay"><input type="hidden" name="out_trade_no" value="{{.OrderNo}}"><input type="hidden" name="result" value="success"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="/sandbox/adapay/pay"><input type="hidden" name="out_trade_no" value="{{.OrderNo}}"><input type="hidden" name="result" value="fail"><button class="cancel" type="submit">Cancel</button></form>
</div>{{end}}

{{define "result"}}<h1>{{if .Paid}}Payment succeeded{{else}}Payment not made{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Payment</dt><dd>{{.ChannelTradeNo}}</dd><dt>Status</dt><dd>{{.Status}}</dd>
</dl>
<details><summary>For developers: the webhook</summary><p>{{if .NotifyStatus}}cashier answered HTTP {{.NotifyStatus}}: <code>{{.NotifyReply}}</code>{{else}}none sent{{end}}</p></details>{{end}}
`)

func (s *AdaPay) errorPage(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
	pages.RenderError(w, r, s.log(), status, code, reason)
}

// servePayPage is what the Alipay app shows on opening the QR link.
func (s *AdaPay) servePayPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.payments[r.PathValue("id")]
	var data map[string]string
	if ok {
		data = map[string]string{"ID": r.PathValue("id"), "OrderNo": p.orderNo, "Amount": p.amount}
	}
	s.mu.Unlock()
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "resource_not_exists", "This sandbox has no such payment: its links are valid while it runs.")
		return
	}
	pages.Render(w, r, s.log(), http.StatusOK, "pay", data)
}

// Pay pays or fails the pending payment of order_no outTradeNo, and sends
// its webhook (payment.succeeded or payment.failed) unless hold is set.
func (s *AdaPay) Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	s.mu.Lock()
	var id string
	var p *payment
	for pid, x := range s.payments {
		if x.orderNo == outTradeNo {
			id, p = pid, x
		}
	}
	if p == nil {
		s.mu.Unlock()
		return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "resource_not_exists", Reason: "AdaPay sandbox has no payment for order " + outTradeNo}
	}
	if p.status != "pending" {
		status := p.status
		s.mu.Unlock()
		return nil, &sandbox.Refusal{Status: http.StatusConflict, Code: "payment_status_error", Reason: "the payment of " + outTradeNo + " is " + status}
	}
	typ := "payment.failed"
	if paid {
		p.setStatus("succeeded")
		p.endTime(s.now())
		typ = "payment.succeeded"
	} else {
		p.setStatus("failed")
	}
	data, _ := json.Marshal(p.obj)
	notify, status := p.notify, p.status
	s.mu.Unlock()
	s.log().InfoContext(ctx, "sandbox adapay: payment settled", "order_no", outTradeNo, "status", status)
	answer := &sandbox.PayAnswer{OutTradeNo: outTradeNo, ChannelTradeNo: id, Status: status, Paid: paid,
		Notification: s.webhook(notify, typ, string(data))}
	return answer, sandbox.Send(ctx, s.client(), answer, hold)
}

// webhook is the form AdaPay posts: the event, and its data signed.
func (s *AdaPay) webhook(notifyURL, typ, data string) *sandbox.Message {
	v := url.Values{"app_id": {s.AppID}, "created_time": {strconv.FormatInt(s.now().Unix(), 10)}, "data": {data},
		"id": {newID(s.now())}, "object": {"event"}, "prod_mode": {"false"}, "sign": {sign(s.PlatformKey, data)}, "type": {typ}}
	return &sandbox.Message{URL: notifyURL, Body: []byte(v.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
}

// SettlePendingRefunds makes every pending refund and sends its webhook.
func (s *AdaPay) SettlePendingRefunds(ctx context.Context) (int, error) {
	return s.settleRefunds(ctx, func(*refund) bool { return true })
}

// Tick makes the refunds pending for a minute, as AdaPay makes them a while
// after taking them.
func (s *AdaPay) Tick(ctx context.Context) {
	now := s.now()
	if _, err := s.settleRefunds(ctx, func(rf *refund) bool { return now.Sub(rf.created) >= refundSettlesAfter }); err != nil {
		s.log().WarnContext(ctx, "sandbox adapay: refund webhook not delivered", "err", err)
	}
}

func (s *AdaPay) settleRefunds(ctx context.Context, due func(*refund) bool) (int, error) {
	s.mu.Lock()
	var msgs []*sandbox.Message
	for _, rf := range s.refunds {
		if rf.status == "pending" && due(rf) {
			rf.status, rf.obj["status"] = "succeeded", "succeeded"
			data, _ := json.Marshal(rf.obj)
			if rf.notify != "" {
				msgs = append(msgs, s.webhook(rf.notify, "refund.succeeded", string(data)))
			}
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, m := range msgs {
		if _, _, err := sandbox.Deliver(ctx, s.client(), m); err != nil {
			errs = append(errs, err)
		}
	}
	return len(msgs), errors.Join(errs...)
}

// Forge spoils a webhook: Forged is signed with a key that is not AdaPay's;
// Tampered pays 0.01 yuan more than was signed; OtherAmount, OtherApp and
// OtherTrade are signed by "AdaPay", for 0.01 yuan more, for another app, or
// about another payment with the same order_no.
func (s *AdaPay) Forge(n *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	v, err := url.ParseQuery(string(n.Body))
	if err != nil || v.Get("data") == "" {
		return nil, fmt.Errorf("not an AdaPay webhook")
	}
	switch how {
	case sandbox.Forged:
		key, err := sandbox.ForgerKey()
		if err != nil {
			return nil, err
		}
		v.Set("sign", sign(key, v.Get("data")))
	case sandbox.Tampered, sandbox.OtherAmount, sandbox.OtherApp, sandbox.OtherTrade:
		var data map[string]any
		if err := json.Unmarshal([]byte(v.Get("data")), &data); err != nil {
			return nil, err
		}
		switch how {
		case sandbox.OtherApp:
			// Only the signed app_id: the form's is the webhook's envelope,
			// which anyone can change.
			data["app_id"] = sandbox.OtherAppID
		case sandbox.OtherTrade:
			data["id"] = newID(s.now())
		default:
			fen, err := cashier.ParseYuan(fmt.Sprint(data["pay_amt"]))
			if err != nil {
				return nil, err
			}
			data["pay_amt"] = cashier.FormatYuan(fen + 1)
		}
		raw, _ := json.Marshal(data)
		v.Set("data", string(raw))
		if how != sandbox.Tampered {
			v.Set("sign", sign(s.PlatformKey, string(raw)))
		}
	default:
		return nil, fmt.Errorf("the AdaPay sandbox cannot forge %s", how)
	}
	m := n.Clone()
	m.Body = []byte(v.Encode())
	return m, nil
}

var (
	_ sandbox.Simulator     = (*AdaPay)(nil)
	_ sandbox.RefundSettler = (*AdaPay)(nil)
	_ sandbox.Ticker        = (*AdaPay)(nil)
)
