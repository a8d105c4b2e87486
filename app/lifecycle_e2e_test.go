package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// jobsWait bounds how long a test waits for River: its scheduler moves due
// jobs every few seconds.
const jobsWait = 30 * time.Second

// couponStatus is the demo user's coupon 1 as the API shows it.
func (h *harness) couponStatus() string {
	h.t.Helper()
	var list []struct {
		Status string `json:"status"`
	}
	json.Unmarshal(h.get("/api/v1/coupons", h.token).Data, &list)
	if len(list) == 0 {
		h.t.Fatal("no coupons")
	}
	return list[0].Status
}

// Expiry closes an order on time — releasing stock and coupon and closing its
// attempt at the channel — by a job scheduled in the order's transaction.
func TestExpiryClosesOrders(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		h.startJobs()
		pkg, _ := h.mustBuy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}})
		before := h.stock(1)
		shop := h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"2"}, "area_id": {"1"}, "pay_type": {"wechat"}})
		if shop.Status != 200 || h.stock(1) != before-2 || h.couponStatus() != "locked" {
			t.Fatalf("before expiry: %s, stock %d, coupon %s", shop.Raw, h.stock(1), h.couponStatus())
		}
		h.clock.Advance(29 * time.Minute)
		if o := h.order(pkg); o.Status != "pending" {
			t.Fatalf("closed before its expiry: %+v", o)
		}
		h.clock.Advance(2 * time.Minute)
		h.eventually("both orders closed", jobsWait, func() bool {
			return h.order(pkg).Status == "closed" && h.order(shop.Data.OrderID).Status == "closed"
		})
		if h.couponStatus() != "available" || h.stock(1) != before {
			t.Fatalf("after expiry: coupon %s, stock %d (want %d)", h.couponStatus(), h.stock(1), before)
		}
		if h.events("order.closed") != 2 {
			t.Errorf("order.closed events: %d", h.events("order.closed"))
		}
		// The WeChat attempt was closed at WeChat Pay too, before the job ended.
		h.eventually("expiry jobs done", jobsWait, func() bool {
			var n int
			h.app.Store.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'expire_order' AND state = 'completed'").Scan(&n)
			return n == 2
		})
		if status, out := h.wechatPay(h.lastOutTradeNo(shop.Data.OrderID), ""); status == 200 && out["status"] == "SUCCESS" {
			t.Errorf("the expired attempt could still be paid: %v", out)
		}
	})
}

// dropNotifications loses every notification the simulators send, as a
// broken network would; calls from cashier to the channels go through.
type dropNotifications struct{}

func (dropNotifications) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/order/notify/") {
		return nil, errors.New("notification lost")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A payment whose notification was lost is found by asking the channel.
func TestPollingFindsLostPayments(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, nil, app.Options{HTTPClient: &http.Client{Transport: dropNotifications{}, Timeout: 5 * time.Second}})
		h.startJobs()
		ali, _ := h.mustBuy("app", nil)
		wx := h.buyWechat("app")
		if wx.Status != 200 {
			t.Fatalf("wechat: %+v", wx)
		}
		for _, c := range []struct{ channel, order string }{{"alipay", ali}, {"wechat", wx.OrderID}} {
			otn := h.lastOutTradeNo(c.order)
			var status int
			if c.channel == "wechat" {
				status, _ = h.wechatPay(otn, "")
			} else {
				status, _ = h.trySandboxPay(otn)
			}
			if status != http.StatusBadGateway {
				t.Fatalf("%s: the simulator delivered its notification (%d)", c.channel, status)
			}
			if o := h.order(c.order); o.Status != "pending" {
				t.Fatalf("%s: paid without a notification: %+v", c.channel, o)
			}
		}
		h.clock.Advance(3 * time.Minute) // past the first poll
		h.eventually("polling found both payments", jobsWait, func() bool {
			return h.order(ali).Status == "paid" && h.order(wx.OrderID).Status == "paid"
		})
		if n := h.events("order.paid"); n != 2 {
			t.Errorf("order.paid events: %d", n)
		}
	})
}

// A payment for a closed order is recorded, and refunded automatically: the
// buyer paid in the app just before the cancel, and the notification was lost.
func TestLatePaymentIsRefunded(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, nil, app.Options{HTTPClient: &http.Client{Transport: dropNotifications{}, Timeout: 5 * time.Second}})
		h.startJobs()
		id, _ := h.mustBuy("app", nil)
		if status, _ := h.trySandboxPay(h.lastOutTradeNo(id)); status != http.StatusBadGateway {
			t.Fatalf("the simulator delivered its notification (%d)", status)
		}
		// Cancelling closes the order; closing the attempt at Alipay finds it
		// paid, so cashier asks, records the payment and refunds it.
		if r := h.post("/api/v1/orders/"+id+"/cancel", h.token, nil); r.Status != 200 {
			t.Fatalf("cancel: %d %s", r.Status, r.Message)
		}
		h.eventually("the late payment refunded", jobsWait, func() bool {
			return h.order(id).Payments[0].Status == "refunded"
		})
		o := h.adminOrder(id)
		if o.Status != "closed" || len(o.Refunds) != 1 || o.Refunds[0].Status != "succeeded" || o.Refunds[0].Amount != 600 {
			t.Fatalf("order = %+v", o)
		}
		if h.events("payment.late") != 1 || h.events("refund.succeeded") != 1 || h.events("order.paid") != 0 {
			t.Errorf("events: late %d, refund.succeeded %d, paid %d", h.events("payment.late"), h.events("refund.succeeded"), h.events("order.paid"))
		}
		// The simulator has the refund: a second refund of the whole amount is refused there.
		if n := h.count("inbound_messages"); n < 1 {
			t.Errorf("the query answer was not recorded as evidence")
		}
	})
}

// With late_refunds "manual", a late payment waits for an operator, who
// refunds it once through the admin API.
func TestManualLateRefund(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, func(c *app.Config) { c.LateRefunds = "manual" },
			app.Options{HTTPClient: &http.Client{Transport: dropNotifications{}, Timeout: 5 * time.Second}})
		h.startJobs()
		id, _ := h.mustBuy("app", nil)
		h.trySandboxPay(h.lastOutTradeNo(id))
		h.post("/api/v1/orders/"+id+"/cancel", h.token, nil)
		o := h.order(id)
		if o.Payments[0].Status != "needs_refund" || h.count("refunds") != 0 {
			t.Fatalf("before the operator: %+v, %d refunds", o.Payments, h.count("refunds"))
		}
		pid := itoa(o.Payments[0].ID)
		for i := 0; i < 2; i++ { // twice: one refund
			if r := h.do("POST", "/admin/api/payments/"+pid+"/refund", h.app.AdminToken, "", nil); r.Status != 202 {
				t.Fatalf("refund the payment: %d %s", r.Status, r.Message)
			}
		}
		h.eventually("refunded", jobsWait, func() bool { return h.order(id).Payments[0].Status == "refunded" })
		if n := h.count("refunds"); n != 1 {
			t.Fatalf("%d refunds", n)
		}
		if r := h.do("POST", "/admin/api/payments/"+pid+"/refund", h.app.AdminToken, "", nil); r.Status != 409 {
			t.Fatalf("refund a refunded payment: %d", r.Status)
		}
		paid, _ := h.mustBuy("app", nil)
		h.notify(signAlipay(t, h.platformKey(), h.alipayNotification(h.lastOutTradeNo(paid), "6.00", nil)).Encode())
		if r := h.do("POST", "/admin/api/payments/"+itoa(h.order(paid).Payments[0].ID)+"/refund", h.app.AdminToken, "", nil); r.Status != 409 {
			t.Fatalf("refund a payment that paid its order this way: %d", r.Status)
		}
	})
}

// Money given back outside cashier (a channel's console, a channel without a
// refund API) is recorded by an operator: who, when, how; once.
func TestRefundedOutsideCashier(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, func(c *app.Config) { c.LateRefunds = "manual" }, app.Options{})
		id, _ := h.mustBuy("app", nil)
		h.post("/api/v1/orders/"+id+"/cancel", h.token, nil)
		h.notify(signAlipay(t, h.platformKey(), h.alipayNotification(h.lastOutTradeNo(id), "6.00", nil)).Encode())
		pid := itoa(h.order(id).Payments[0].ID)
		path := "/admin/api/payments/" + pid + "/refunded-outside"
		for _, bad := range []map[string]any{{"operator": "li.lei"}, {"note": "ref 1"}, {"operator": " ", "note": "ref 1"}} {
			if r := h.admin("POST", path, bad); r.Status != 400 {
				t.Errorf("%v: %d %s", bad, r.Status, r.Message)
			}
		}
		if h.count("refunds") != 0 || h.order(id).Payments[0].Status != "needs_refund" {
			t.Fatal("a refused request wrote")
		}
		r := h.adminKeyed(path, "outside-1", map[string]any{"operator": "li.lei", "note": "refunded in the Alipay console, ref 2026-77"})
		var ref struct {
			Status, Reason, Detail string
			Amount                 int64
		}
		json.Unmarshal(r.Data, &ref)
		if r.Status != 200 || ref.Status != "succeeded" || ref.Amount != 600 || !strings.Contains(ref.Detail, "li.lei") ||
			!strings.Contains(ref.Detail, "ref 2026-77") || ref.Reason != "refunded outside cashier" {
			t.Fatalf("recorded: %d %s", r.Status, r.Data)
		}
		if o := h.order(id); o.Payments[0].Status != "refunded" || o.Status != "closed" {
			t.Errorf("after: order %s, payment %s", o.Status, o.Payments[0].Status)
		}
		if h.events("refund.succeeded") != 1 {
			t.Errorf("%d refund.succeeded events", h.events("refund.succeeded"))
		}
		if again := h.adminKeyed(path, "outside-1", map[string]any{"operator": "li.lei", "note": "refunded in the Alipay console, ref 2026-77"}); again.Status != 200 || string(again.Data) != string(r.Data) {
			t.Errorf("retried with its Idempotency-Key: %d %s", again.Status, again.Data)
		}
		if r := h.admin("POST", path, map[string]any{"operator": "li.lei", "note": "again"}); r.Status != 409 {
			t.Errorf("twice: %d", r.Status)
		}
		if h.count("refunds") != 1 || h.events("refund.succeeded") != 1 {
			t.Errorf("after the retries: %d refunds, %d refund.succeeded events", h.count("refunds"), h.events("refund.succeeded"))
		}
		// A refund under way at the channel must settle first.
		late, _ := h.mustBuy("app", nil)
		h.post("/api/v1/orders/"+late+"/cancel", h.token, nil)
		h.notify(signAlipay(t, h.platformKey(), h.alipayNotification(h.lastOutTradeNo(late), "6.00", nil)).Encode())
		latePayment := itoa(h.order(late).Payments[0].ID)
		if r := h.admin("POST", "/admin/api/payments/"+latePayment+"/refund", nil); r.Status >= 300 {
			t.Fatalf("refund through the channel: %d %s", r.Status, r.Message)
		}
		if r := h.admin("POST", "/admin/api/payments/"+latePayment+"/refunded-outside", map[string]any{"operator": "x", "note": "y"}); r.Status != 409 ||
			!strings.Contains(r.Message, "under way") {
			t.Errorf("while a channel refund is pending: %d %s", r.Status, r.Message)
		}
		paid, _ := h.mustBuy("app", nil)
		h.pay("alipay", h.lastOutTradeNo(paid))
		if r := h.admin("POST", "/admin/api/payments/"+itoa(h.order(paid).Payments[0].ID)+"/refunded-outside",
			map[string]any{"operator": "x", "note": "y"}); r.Status != 409 {
			t.Errorf("a payment that paid its order: %d", r.Status)
		}
	})
}

// Two attempts both paid: the order is paid once, the other is refunded.
func TestDoublePaymentIsRefunded(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, nil, app.Options{HTTPClient: &http.Client{Transport: dropNotifications{}, Timeout: 5 * time.Second}})
		h.startJobs()
		r := h.buyWechat("app")
		first := h.lastOutTradeNo(r.OrderID)
		if status, _ := h.wechatPay(first, ""); status != http.StatusBadGateway {
			t.Fatalf("the simulator delivered its notification (%d)", status)
		}
		// The buyer, seeing nothing happen, pays again with Alipay. Closing the
		// WeChat attempt finds it paid: that payment pays the order.
		h.post("/api/v1/orders/"+r.OrderID+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}})
		second := h.lastOutTradeNo(r.OrderID)
		if o := h.order(r.OrderID); o.Status != "paid" || o.Payments[0].Status != "paid" {
			t.Fatalf("after re-paying: %+v", o)
		}
		// The Alipay attempt is paid too; polling finds it, and refunds it.
		h.trySandboxPay(second)
		h.clock.Advance(3 * time.Minute)
		h.eventually("the second payment refunded", jobsWait, func() bool {
			return h.order(r.OrderID).Payments[1].Status == "refunded"
		})
		o := h.adminOrder(r.OrderID)
		if o.Status != "paid" || o.PaidAmount != 600 || o.Refunded != 0 || len(o.Refunds) != 1 {
			t.Fatalf("order = %+v", o)
		}
		if h.events("order.paid") != 1 || h.events("payment.late") != 1 {
			t.Errorf("events: paid %d, late %d", h.events("order.paid"), h.events("payment.late"))
		}
	})
}

// adminOrderView is an order as the admin API shows it, with refunds.
type adminOrderView struct {
	orderView
	Refunded int64 `json:"refunded_amount"`
	Refunds  []struct {
		ID     int64  `json:"id"`
		Amount int64  `json:"amount"`
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"refunds"`
}

func (h *harness) adminOrder(id string) adminOrderView {
	h.t.Helper()
	r := h.do("GET", "/admin/api/orders/"+id, h.app.AdminToken, "", nil)
	var o adminOrderView
	if r.Status != 200 || json.Unmarshal(r.Data, &o) != nil {
		h.t.Fatalf("admin order %s: %d %s", id, r.Status, r.Message)
	}
	return o
}

func (h *harness) refund(id string, amount int64, key string) reply {
	h.t.Helper()
	return h.adminKeyed("/admin/api/orders/"+id+"/refunds", key, map[string]any{"amount": amount, "reason": "customer asked"})
}

// adminKeyed posts body to an admin path with an Idempotency-Key (none if
// key is empty).
func (h *harness) adminKeyed(path, key string, body any) reply {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+h.app.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	json.NewDecoder(resp.Body).Decode(&r)
	r.Status = resp.StatusCode
	return r
}

// Partial refunds up to the paid amount, through both channels; one more fen
// is refused; concurrent refunds never exceed what was paid.
func TestRefunds(t *testing.T) {
	for _, channel := range []string{"alipay", "wechat"} {
		t.Run(channel, func(t *testing.T) {
			storetest.Dialects(t, func(t *testing.T, dsn string) {
				h := newHarness(t, dsn)
				h.startJobs()
				var id string
				if channel == "alipay" {
					id, _ = h.mustBuy("app", url.Values{"package_id": {"2"}})
				} else {
					id = h.post("/api/v1/order", h.token, url.Values{"source": {"s"}, "package_id": {"2"}, "channel": {"wechat"}, "gateway": {"app"}}).OrderID
				}
				h.pay(channel, h.lastOutTradeNo(id))
				for i, amount := range []int64{1000, 500} {
					if r := h.refund(id, amount, ""); r.Status != 202 {
						t.Fatalf("refund %d: %d %s", i, r.Status, r.Message)
					}
				}
				if r := h.refund(id, 1501, ""); r.Status != 422 || !strings.Contains(r.Message, "15.00 yuan left") {
					t.Fatalf("too much: %d %s", r.Status, r.Message)
				}
				if r := h.refund(id, 1500, ""); r.Status != 202 {
					t.Fatalf("the rest: %d %s", r.Status, r.Message)
				}
				// Refused either way: nothing is left to refund (422), or the
				// refunds already settled and the order is refunded (409),
				// whichever the jobs reached first. No refund is written
				// (three, below).
				if r := h.refund(id, 1, ""); !(r.Status == 422 && strings.Contains(r.Message, "left to refund")) &&
					!(r.Status == 409 && strings.Contains(r.Message, "is refunded")) {
					t.Fatalf("one fen more: %d %s", r.Status, r.Message)
				}
				h.eventually("refunds settled", jobsWait, func() bool {
					if channel == "wechat" {
						h.settleWechatRefunds() // WeChat settles refunds later, and notifies
					}
					return h.adminOrder(id).Status == "refunded"
				})
				o := h.adminOrder(id)
				if o.Refunded != 3000 || len(o.Refunds) != 3 {
					t.Fatalf("order = %+v", o)
				}
				for _, r := range o.Refunds {
					if r.Status != "succeeded" {
						t.Errorf("refund %d is %s: %s", r.ID, r.Status, r.Detail)
					}
				}
				if h.events("refund.succeeded") != 3 {
					t.Errorf("refund.succeeded events: %d", h.events("refund.succeeded"))
				}
			})
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		storetest.Dialects(t, func(t *testing.T, dsn string) {
			h := newHarness(t, dsn)
			id, _ := h.mustBuy("app", nil) // 600
			h.pay("alipay", h.lastOutTradeNo(id))
			var ok atomic.Int32
			var wg sync.WaitGroup
			for i := 0; i < 12; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r := h.refund(id, 100, ""); r.Status == 202 {
						ok.Add(1)
					} else if r.Status != 422 {
						t.Errorf("refund: %d %s", r.Status, r.Message)
					}
				}()
			}
			wg.Wait()
			if o := h.adminOrder(id); ok.Load() != 6 || o.Refunded != 600 || len(o.Refunds) != 6 {
				t.Fatalf("%d refunds accepted, refunded %d, %d refunds", ok.Load(), o.Refunded, len(o.Refunds))
			}
		})
	})
	t.Run("bad input", func(t *testing.T) {
		storetest.Dialects(t, func(t *testing.T, dsn string) {
			h := newHarness(t, dsn)
			pending, _ := h.mustBuy("app", nil)
			if r := h.refund(pending, 100, ""); r.Status != 409 {
				t.Errorf("refund a pending order: %d %s", r.Status, r.Message)
			}
			if r := h.refund("999", 100, ""); r.Status != 404 {
				t.Errorf("refund an unknown order: %d", r.Status)
			}
			h.pay("alipay", h.lastOutTradeNo(pending))
			if r := h.refund(pending, 0, ""); r.Status != 400 {
				t.Errorf("refund 0: %d", r.Status)
			}
			if r := h.refund(pending, -5, ""); r.Status != 400 {
				t.Errorf("refund -5: %d", r.Status)
			}
			if h.count("refunds") != 0 {
				t.Errorf("bad requests wrote refunds")
			}
		})
	})
}

// A refund the channel gives up on gives its amount back, and the order is
// paid again with what it was paid intact, so it can be refunded later.
func TestFailedRefundRestoresTheOrder(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		h.startJobs()
		r := h.buyWechat("app")
		h.pay("wechat", h.lastOutTradeNo(r.OrderID))
		if rr := h.refund(r.OrderID, 600, ""); rr.Status != 202 {
			t.Fatalf("refund: %d %s", rr.Status, rr.Message)
		}
		h.eventually("the refund failed", jobsWait, func() bool {
			h.settleWechatRefundsAs("closed")
			o := h.adminOrder(r.OrderID)
			return len(o.Refunds) == 1 && o.Refunds[0].Status == "failed"
		})
		o := h.adminOrder(r.OrderID)
		if o.Status != "paid" || o.PaidAmount != 600 || o.Refunded != 0 {
			t.Fatalf("after the failed refund: %+v", o)
		}
		if h.events("refund.failed") != 1 {
			t.Errorf("refund.failed events: %d", h.events("refund.failed"))
		}
		if rr := h.refund(r.OrderID, 600, ""); rr.Status != 202 {
			t.Fatalf("refund again: %d %s", rr.Status, rr.Message)
		}
	})
}

// An order that is the credit of an upgrade cannot be refunded: the buyer
// would keep the bigger package for the smaller price.
func TestCostOrderCannotBeRefunded(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		cost, _ := h.mustBuy("app", url.Values{"package_id": {"1"}})
		h.pay("alipay", h.lastOutTradeNo(cost))
		up, _ := h.mustBuy("app", url.Values{"package_id": {"2"}, "cost_order_id": {cost}})
		if r := h.refund(cost, 600, ""); r.Status != 409 || !strings.Contains(r.Message, "upgrade order") {
			t.Fatalf("refund of a cost order: %d %s", r.Status, r.Message)
		}
		// Refunded first, it cannot be claimed as credit.
		h.post("/api/v1/orders/"+up+"/cancel", h.token, nil)
		if r := h.refund(cost, 100, ""); r.Status != 202 {
			t.Fatalf("refund once free: %d %s", r.Status, r.Message)
		}
		if r := h.buy("app", url.Values{"package_id": {"2"}, "cost_order_id": {cost}}); r.Status == 200 {
			t.Fatalf("a refunded order gave credit: %+v", r)
		}
	})
}

// The same Idempotency-Key twice: the same order, once. Other parameters with
// it: 409.
func TestIdempotencyKeys(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		send := func(path, key string, form url.Values) (int, string, string) {
			req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+h.token)
			req.Header.Set("Idempotency-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), resp.Header.Get("Idempotent-Replayed")
		}
		form := url.Values{"source": {"s"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}}
		s1, b1, _ := send("/api/v1/order", "key-1", form)
		s2, b2, replayed := send("/api/v1/order", "key-1", form)
		if s1 != 200 || s2 != 200 || b1 != b2 || replayed != "true" {
			t.Fatalf("same key twice: %d %d, replayed %q\n%s\n%s", s1, s2, replayed, b1, b2)
		}
		if n := h.count("orders"); n != 1 {
			t.Fatalf("%d orders for one key", n)
		}
		form.Set("package_id", "2")
		if s, b, _ := send("/api/v1/order", "key-1", form); s != 409 || !strings.Contains(b, "different request") {
			t.Fatalf("same key, other parameters: %d %s", s, b)
		}
		// Another user's identical key is another key.
		shop := url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"alipay"}}
		s3, b3, _ := send("/api/ShopPay/productCharge", "key-2", shop)
		s4, b4, _ := send("/api/ShopPay/productCharge", "key-2", shop)
		if s3 != 200 || b3 != b4 || h.count("orders") != 2 {
			t.Fatalf("shop: %d %d, %d orders", s3, s4, h.count("orders"))
		}
		// Concurrent requests with one key: one order.
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s, b, _ := send("/api/v1/order", "key-3", url.Values{"source": {"s"}, "package_id": {"3"}, "channel": {"alipay"}, "gateway": {"app"}}); s != 200 && s != 409 {
					t.Errorf("concurrent: %d %s", s, b)
				}
			}()
		}
		wg.Wait()
		if n := h.count("orders"); n != 3 {
			t.Fatalf("%d orders after concurrent requests with one key", n)
		}
		// An admin refund with a key is made once.
		h.pay("alipay", h.lastOutTradeNo("1"))
		r1, r2 := h.refund("1", 100, "refund-1"), h.refund("1", 100, "refund-1")
		if r1.Status != 202 || r2.Status != 202 || h.count("refunds") != 1 {
			t.Fatalf("refund twice with one key: %d %d, %d refunds", r1.Status, r2.Status, h.count("refunds"))
		}
	})
}

// receiver is a merchant's webhook endpoint written from the documented
// scheme alone: Cashier-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failures int // answers 503 to this many deliveries first
	seen     map[string]int
	bad      []string
	calls    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if rc.calls <= rc.failures {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ts, v1 string
	for _, part := range strings.Split(r.Header.Get("Cashier-Signature"), ",") {
		k, v, _ := strings.Cut(part, "=")
		if k == "t" {
			ts = v
		} else if k == "v1" {
			v1 = v
		}
	}
	m := hmac.New(sha256.New, []byte(rc.secret))
	m.Write([]byte(ts + "." + string(body)))
	if want := hex.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(want), []byte(v1)) {
		rc.bad = append(rc.bad, r.Header.Get("Cashier-Event-Id"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		rc.bad = append(rc.bad, "timestamp "+ts)
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	json.Unmarshal(body, &ev)
	if ev.ID != r.Header.Get("Cashier-Event-Id") {
		rc.bad = append(rc.bad, "id "+ev.ID)
	}
	rc.seen[ev.ID+" "+ev.Type]++
	w.WriteHeader(http.StatusNoContent)
}

// A receiver down for the first attempts gets the event once it is up, with
// the same event id, signed as documented; every attempt is recorded; an
// operator can send it again.
func TestWebhooks(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		rc := &receiver{secret: "whsec_0123456789abcdef", failures: 2, seen: map[string]int{}}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		r := h.admin("POST", "/admin/api/webhooks", map[string]any{"url": srv.URL + "/hooks", "events": []string{"order.paid"}, "secret": rc.secret})
		if r.Status != 201 {
			t.Fatalf("create endpoint: %d %s", r.Status, r.Message)
		}
		h.startJobs()
		id, _ := h.mustBuy("app", nil)
		h.pay("alipay", h.lastOutTradeNo(id))
		count := func() int {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return len(rc.seen)
		}
		// Two failures, each retried on the schedule: time runs fast until it arrives.
		h.eventually("delivered", jobsWait, func() bool {
			h.clock.Advance(15 * time.Second)
			return count() == 1
		})
		rc.mu.Lock()
		if len(rc.bad) != 0 || rc.calls != 3 {
			t.Errorf("calls %d, bad %v", rc.calls, rc.bad)
		}
		var eventID string
		for k, n := range rc.seen {
			eventID = strings.Fields(k)[0]
			if n != 1 || !strings.HasSuffix(k, " order.paid") {
				t.Errorf("seen %q %d times", k, n)
			}
		}
		rc.mu.Unlock()
		var ds []struct {
			Attempt    int    `json:"attempt"`
			StatusCode int    `json:"status_code"`
			EventID    string `json:"event_id"`
		}
		// The attempt is recorded once the receiver's answer is in: wait for it.
		h.eventually("three attempts recorded", jobsWait, func() bool {
			json.Unmarshal(h.do("GET", "/admin/api/deliveries?event_id="+eventID, h.app.AdminToken, "", nil).Data, &ds)
			return len(ds) >= 3
		})
		if len(ds) != 3 || ds[0].StatusCode != 204 || ds[2].StatusCode != 503 {
			t.Errorf("deliveries = %+v", ds)
		}
		// An operator re-sends it: same event id, seen twice by a receiver that
		// does not deduplicate.
		if r := h.do("POST", "/admin/api/events/"+eventID+"/resend", h.app.AdminToken, "", nil); r.Status != 202 {
			t.Fatalf("resend: %d %s", r.Status, r.Message)
		}
		h.eventually("re-sent", jobsWait, func() bool {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return rc.seen[eventID+" order.paid"] == 2
		})
		// Events the endpoint did not subscribe to are not sent.
		h.post("/api/v1/orders/"+h.post("/api/v1/order", h.token, url.Values{"source": {"s"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}}).OrderID+"/cancel", h.token, nil)
		if h.events("order.closed") != 1 {
			t.Fatal("no order.closed event")
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for k := range rc.seen {
			if strings.HasSuffix(k, "order.closed") {
				t.Errorf("sent an unsubscribed event: %s", k)
			}
		}
	})
}

// Jobs survive a restart of cashier.
func TestJobsSurviveRestart(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}})
		h.restart() // the expiry job was written with the order, not kept in memory
		h.startJobs()
		h.clock.Advance(31 * time.Minute)
		h.eventually("closed after the restart", jobsWait, func() bool { return h.order(id).Status == "closed" })
		if h.couponStatus() != "available" {
			t.Errorf("coupon %s", h.couponStatus())
		}
	})
}

// Two cashier instances on one PostgreSQL: each expiry runs once.
func TestTwoInstancesExpireOnce(t *testing.T) {
	h := newHarness(t, storetest.PostgresDSN(t))
	other := h.twin()
	h.startJobs()
	other.startJobs()
	var ids []string
	for i := 0; i < 5; i++ {
		id, _ := h.mustBuy("app", nil)
		ids = append(ids, id)
	}
	h.clock.Advance(31 * time.Minute)
	h.eventually("all closed", jobsWait, func() bool {
		for _, id := range ids {
			if h.order(id).Status != "closed" {
				return false
			}
		}
		return true
	})
	if n := h.events("order.closed"); n != 5 {
		t.Errorf("order.closed events: %d, want 5", n)
	}
	// Each job ran once, on one of the two instances, on its first attempt.
	h.eventually("expiry jobs completed", jobsWait, func() bool {
		var n int
		h.app.Store.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'expire_order' AND state = 'completed' AND attempt = 1").Scan(&n)
		return n == 5
	})
	var others int
	h.app.Store.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'expire_order' AND NOT (state = 'completed' AND attempt = 1)").Scan(&others)
	if others != 0 {
		t.Errorf("%d expiry jobs ran more than once or did not complete", others)
	}
}
