package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cashier/sqlstore/storetest"
)

// What each gateway hands the client is in the seed's shape: the app order
// string, and web/wap URLs whose pay page opens. (Paying through every
// gateway is the conformance suite's, channel/channeltest.)
func TestAlipayCredentials(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		for _, gw := range []string{"app", "web", "wap"} {
			t.Run(gw, func(t *testing.T) {
				id, cred := h.mustBuy(gw, nil)
				switch gw {
				case "app":
					q, err := url.ParseQuery(cred)
					if err != nil || q.Get("method") != "alipay.trade.app.pay" || q.Get("sign") == "" ||
						!strings.Contains(q.Get("biz_content"), `"total_amount":"6.00"`) ||
						q.Get("notify_url") != h.url+"/api/v1/order/notify/alipay" {
						t.Fatalf("app order string = %s", cred)
					}
				default:
					prefix := h.url + "/sandbox/alipay/gateway.do?"
					if !strings.HasPrefix(cred, prefix) {
						t.Fatalf("%s URL = %s", gw, cred)
					}
					resp, err := http.Get(cred)
					if err != nil {
						t.Fatal(err)
					}
					page, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || !strings.Contains(string(page), "6.00") {
						t.Fatalf("pay page: %d %s", resp.StatusCode, page)
					}
				}
				o := h.order(id)
				if o.Status != "pending" || len(o.Payments) != 1 || o.Payments[0].Status != "pending" || o.Payable != 600 {
					t.Fatalf("before paying: %+v", o)
				}
			})
		}
	})
}

// Forged and tampered notifications are rejected and recorded; the order is untouched.
func TestAlipayRejectsBadNotifications(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		otn := h.lastOutTradeNo(id)
		key := h.platformKey()
		otherKey := h.otherKey()

		tampered := signAlipay(t, key, h.alipayNotification(otn, "0.01", nil))
		tampered.Set("total_amount", "6.00") // signed for 0.01
		tamperedStatus := signAlipay(t, key, h.alipayNotification(otn, "6.00", map[string]string{"trade_status": "TRADE_CLOSED"}))
		tamperedStatus.Set("trade_status", "TRADE_SUCCESS")
		noSign := signAlipay(t, key, h.alipayNotification(otn, "6.00", nil))
		noSign.Del("sign")

		cases := []struct {
			name  string
			body  string
			reply string
		}{
			{"signed by another key", signAlipay(t, otherKey, h.alipayNotification(otn, "6.00", nil)).Encode(), "fail"},
			{"amount changed after signing", tampered.Encode(), "fail"},
			{"status changed after signing", tamperedStatus.Encode(), "fail"},
			{"no signature", noSign.Encode(), "fail"},
			{"garbage", "%%%&&&===", "fail"},
			{"wrong app_id", signAlipay(t, key, h.alipayNotification(otn, "6.00", map[string]string{"app_id": "2021999999999999"})).Encode(), "success"},
			{"wrong seller_id", signAlipay(t, key, h.alipayNotification(otn, "6.00", map[string]string{"seller_id": "2088000000000001"})).Encode(), "success"},
			{"wrong amount", signAlipay(t, key, h.alipayNotification(otn, "0.01", nil)).Encode(), "success"},
			{"unknown order", signAlipay(t, key, h.alipayNotification("ALI20261123000000"+"9999999999", "6.00", nil)).Encode(), "success"},
		}
		for i, c := range cases {
			status, text := h.notify(c.body)
			if status != 200 || text != c.reply {
				t.Errorf("%s: reply %d %q, want %q", c.name, status, text, c.reply)
			}
			outcomes := h.inboundOutcomes()
			if len(outcomes) != i+1 || outcomes[i] != "rejected" {
				t.Errorf("%s: recorded outcomes %v", c.name, outcomes)
			}
		}
		if o := h.order(id); o.Status != "pending" || o.Payments[0].Status != "pending" || o.PaidAmount != 0 {
			t.Errorf("order changed: %+v", o)
		}
		if n := h.events("order.paid"); n != 0 {
			t.Errorf("%d order.paid events", n)
		}
	})
}

// A '+' in a signed value is data: the form is decoded exactly once.
func TestAlipayNotificationWithPlus(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		otn := h.lastOutTradeNo(id)
		body := signAlipay(t, h.platformKey(), h.alipayNotification(otn, "6.00", map[string]string{"subject": "Gold+Silver pack 1+1", "buyer_logon_id": "a+b@example.com"})).Encode()
		if status, text := h.notify(body); status != 200 || text != "success" {
			t.Fatalf("reply %d %q", status, text)
		}
		if o := h.order(id); o.Status != "paid" {
			t.Fatalf("order = %+v", o)
		}
	})
}

// Re-pay after cancelling in Alipay's app: a second attempt pays the order,
// and the first attempt's late payment is recorded and marked for refund.
func TestAlipayRepayAndLatePayment(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		first := h.lastOutTradeNo(id)

		r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"wap"}})
		if r.Status != 200 || r.Code != 0 || r.OrderID != id {
			t.Fatalf("re-pay: %d %+v", r.Status, r)
		}
		o := h.order(id)
		if len(o.Payments) != 2 || o.Payments[0].Status != "closed" || o.Payments[1].Status != "pending" {
			t.Fatalf("after re-pay: %+v", o.Payments)
		}
		second := o.Payments[1].OutTradeNo
		if second == first {
			t.Fatal("re-pay reused out_trade_no")
		}
		if out := h.sandboxPay(second, ""); out["notify_reply"] != "success" {
			t.Fatalf("pay second: %v", out)
		}
		// Re-paying closed the first attempt at Alipay too: it can no longer be paid there.
		if status, _ := h.trySandboxPay(first); status != http.StatusConflict {
			t.Fatalf("paying the closed first attempt at the sandbox: %d", status)
		}
		// But the buyer had paid it just before the close reached Alipay: its
		// notification arrives late.
		late := signAlipay(t, h.platformKey(), h.alipayNotification(first, "6.00", map[string]string{"trade_no": "2026112322001400000000000009"})).Encode()
		if status, text := h.notify(late); status != 200 || text != "success" {
			t.Fatalf("late notification: %d %q", status, text)
		}
		o = h.order(id)
		if o.Status != "paid" || o.PaidAmount != 600 {
			t.Fatalf("order = %+v", o)
		}
		if o.Payments[0].Status != "needs_refund" || o.Payments[1].Status != "paid" {
			t.Fatalf("payments = %+v", o.Payments)
		}
		if h.events("order.paid") != 1 || h.events("payment.late") != 1 {
			t.Errorf("events: paid %d, late %d", h.events("order.paid"), h.events("payment.late"))
		}
		// Paying a paid order again is refused.
		if r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}}); r.Status != 409 {
			t.Errorf("pay a paid order: %d %s", r.Status, r.Message)
		}
	})
}

// The earlier, closed attempt paid first still pays the pending order; the
// newer attempt paid after it is the one refunded.
func TestAlipayClosedAttemptPaysPendingOrder(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		first := h.lastOutTradeNo(id)
		h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}})
		second := h.lastOutTradeNo(id)
		// The first attempt was paid just before re-paying closed it at Alipay.
		paid := signAlipay(t, h.platformKey(), h.alipayNotification(first, "6.00", nil)).Encode()
		if status, text := h.notify(paid); status != 200 || text != "success" {
			t.Fatalf("notification of the closed attempt: %d %q", status, text)
		}
		h.sandboxPay(second, "")
		o := h.order(id)
		if o.Status != "paid" || o.Payments[0].Status != "paid" || o.Payments[1].Status != "needs_refund" {
			t.Fatalf("order = %+v", o)
		}
	})
}

// A TRADE_CLOSED from the sandbox closes the attempt; the order stays payable.
func TestAlipayClosedTradeKeepsOrderPayable(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		out := h.sandboxPay(h.lastOutTradeNo(id), "fail")
		if out["notify_reply"] != "success" {
			t.Fatalf("sandbox: %v", out)
		}
		o := h.order(id)
		if o.Status != "pending" || o.Payments[0].Status != "closed" {
			t.Fatalf("order = %+v", o)
		}
		r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}})
		if r.Status != 200 {
			t.Fatalf("re-pay: %+v", r)
		}
		h.sandboxPay(h.lastOutTradeNo(id), "")
		if o := h.order(id); o.Status != "paid" {
			t.Fatalf("order = %+v", o)
		}
	})
}
