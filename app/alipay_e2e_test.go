package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"cashier/sqlstore/storetest"
)

// Create (app, web, wap) → sandbox pay → order paid, over real HTTP.
func TestAlipayBuyAndPay(t *testing.T) {
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
				out := h.sandboxPay(o.Payments[0].OutTradeNo, "")
				if out["notify_reply"] != "success" {
					t.Fatalf("cashier replied %v to the sandbox", out)
				}
				o = h.order(id)
				if o.Status != "paid" || o.PaidAmount != 600 || o.Payments[0].Status != "paid" || o.Payments[0].ChannelTradeNo == "" {
					t.Fatalf("after paying: %+v", o)
				}
			})
		}
		if n := h.events("order.paid"); n != 3 {
			t.Errorf("%d order.paid events, want 3", n)
		}
	})
}

// The same notification delivered 20 times at once: one transition, 20 "success".
func TestAlipayDuplicateNotifications(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		otn := h.lastOutTradeNo(id)
		body := signAlipay(t, h.platformKey(), h.alipayNotification(otn, "6.00", nil)).Encode()

		var wg sync.WaitGroup
		replies := make([]string, 20)
		for i := range replies {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				status, text := h.notify(body)
				replies[i] = fmt.Sprint(status, " ", text)
			}(i)
		}
		wg.Wait()
		for i, r := range replies {
			if r != "200 success" {
				t.Errorf("delivery %d got %q", i, r)
			}
		}
		applied, dup := 0, 0
		for _, o := range h.inboundOutcomes() {
			switch o {
			case "applied":
				applied++
			case "duplicate":
				dup++
			default:
				t.Errorf("outcome %q", o)
			}
		}
		if applied != 1 || dup != 19 {
			t.Errorf("applied %d, duplicate %d; want 1 and 19", applied, dup)
		}
		if n := h.events("order.paid"); n != 1 {
			t.Errorf("%d order.paid events, want 1", n)
		}
		if o := h.order(id); o.Status != "paid" || o.PaidAmount != 600 {
			t.Errorf("order = %+v", o)
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
