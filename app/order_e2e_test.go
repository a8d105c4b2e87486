package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/sqlstore/storetest"
)

// Bad input gets a clear 4xx with a non-zero code, and nothing is written.
func TestCreateOrderBadInput(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		// A paid order of the demo user and one of another user, a coupon of another user.
		paidID, _ := h.mustBuy("app", nil)
		h.sandboxPay(h.lastOutTradeNo(paidID), "")
		pendingID, _ := h.mustBuy("app", nil)
		otherToken := h.tokenFor("someone-else")
		r := h.post("/api/v1/order", otherToken, url.Values{"source": {"x"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}})
		otherOrder := r.OrderID
		h.sandboxPay(h.lastOutTradeNoAs(otherOrder, otherToken), "")
		var otherCoupon cashier.Coupon
		h.app.Store.Update(t.Context(), func(tx cashier.Tx) error {
			otherCoupon = cashier.Coupon{UserID: "someone-else", Name: "x", Discount: 100}
			return tx.InsertCoupon(t.Context(), &otherCoupon)
		})
		orders, payments := h.count("orders"), h.count("payments")

		base := url.Values{"source": {"ch001"}, "package_id": {"2"}, "channel": {"alipay"}, "gateway": {"app"}}
		with := func(k, v string) url.Values {
			f := url.Values{}
			for kk, vv := range base {
				f[kk] = vv
			}
			if v == "<del>" {
				f.Del(k)
			} else {
				f.Set(k, v)
			}
			return f
		}
		cases := []struct {
			name   string
			form   url.Values
			status int
			says   string
		}{
			{"missing package_id", with("package_id", "<del>"), 400, "package_id is required"},
			{"non-numeric package_id", with("package_id", "abc"), 400, "package_id must be a positive integer"},
			{"negative package_id", with("package_id", "-1"), 400, "package_id must be a positive integer"},
			{"unknown package", with("package_id", "999"), 404, "package 999 not found"},
			{"missing source", with("source", "<del>"), 400, "source is required"},
			{"missing channel", with("channel", "<del>"), 400, "channel is required"},
			{"unknown channel", with("channel", "paypal"), 400, "unknown channel"},
			{"wechat web withdrawn", url.Values{"source": {"a"}, "package_id": {"1"}, "channel": {"wechat"}, "gateway": {"web"}}, 400, "withdrawn"},
			{"unknown gateway", with("gateway", "pos"), 400, "unknown gateway"},
			{"missing gateway", with("gateway", "<del>"), 400, "gateway is required"},
			{"non-numeric coupon", with("coupon_prop_id", "x1"), 400, "coupon_prop_id must be a positive integer"},
			{"unknown coupon", with("coupon_prop_id", "999"), 404, "coupon 999 not found"},
			{"someone else's coupon", with("coupon_prop_id", itoa(otherCoupon.ID)), 404, "not found"},
			{"coupon below minimum", with("package_id", "1"), 0, ""}, // placeholder, replaced below
			{"non-numeric cost order", with("cost_order_id", "1.5"), 400, "cost_order_id must be a positive integer"},
			{"unknown cost order", with("cost_order_id", "999"), 404, "cost order 999 not found"},
			{"someone else's cost order", with("cost_order_id", otherOrder), 404, "not found"},
			{"cost order not paid", with("cost_order_id", pendingID), 422, "only a paid order can be upgraded"},
		}
		for i := range cases {
			if cases[i].name == "coupon below minimum" {
				cases[i].form = with("package_id", "1")
				cases[i].form.Set("coupon_prop_id", "1")
				cases[i].status, cases[i].says = 422, "at least 20.00 yuan"
			}
		}
		for _, c := range cases {
			r := h.post("/api/v1/order", h.token, c.form)
			if r.Status != c.status || r.Code == 0 || !strings.Contains(r.Message, c.says) {
				t.Errorf("%s: %d code %d %q; want %d with %q", c.name, r.Status, r.Code, r.Message, c.status, c.says)
			}
		}
		// Oversized, malformed and unauthenticated requests.
		big := "source=a&package_id=1&channel=alipay&gateway=app&pad=" + strings.Repeat("x", 2<<20)
		if r := h.do("POST", "/api/v1/order", h.token, "application/x-www-form-urlencoded", strings.NewReader(big)); r.Status != 413 || r.Code == 0 {
			t.Errorf("oversized body: %d %+v", r.Status, r)
		}
		if r := h.do("POST", "/api/v1/order", h.token, "application/json", strings.NewReader(`{"package_id":`)); r.Status != 400 {
			t.Errorf("broken JSON: %d %+v", r.Status, r)
		}
		if r := h.do("POST", "/api/v1/order", h.token, "text/csv", strings.NewReader(`a,b`)); r.Status != 400 {
			t.Errorf("CSV: %d %+v", r.Status, r)
		}
		if r := h.post("/api/v1/order", "", base); r.Status != 401 || r.Code == 0 {
			t.Errorf("no token: %d %+v", r.Status, r)
		}
		if r := h.post("/api/v1/order", h.token+"x", base); r.Status != 401 {
			t.Errorf("bad token: %d %+v", r.Status, r)
		}
		if got := h.count("orders"); got != orders {
			t.Errorf("orders: %d, want %d: a failed request wrote an order", got, orders)
		}
		if got := h.count("payments"); got != payments {
			t.Errorf("payments: %d, want %d", got, payments)
		}
		// Another user's order is not found.
		if r := h.get("/api/v1/orders/"+otherOrder, h.token); r.Status != 404 {
			t.Errorf("someone else's order: %d", r.Status)
		}
		if r := h.post("/api/v1/orders/"+otherOrder+"/cancel", h.token, nil); r.Status != 404 {
			t.Errorf("cancel someone else's order: %d", r.Status)
		}
		if r := h.post("/api/v1/orders/"+otherOrder+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}}); r.Status != 404 {
			t.Errorf("pay someone else's order: %d", r.Status)
		}
		if r := h.get("/api/v1/orders/abc", h.token); r.Status != 400 {
			t.Errorf("non-numeric order id: %d", r.Status)
		}
	})
}

// JSON bodies work like forms.
func TestCreateOrderJSON(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		// Large ids stay integers (not 1e+06).
		if r := h.do("POST", "/api/v1/order", h.token, "application/json",
			strings.NewReader(`{"source":"ch9","package_id":1000000,"channel":"alipay","gateway":"app"}`)); r.Status != 404 || !strings.Contains(r.Message, "package 1000000 not found") {
			t.Fatalf("large id: %d %s", r.Status, r.Message)
		}
		r := h.do("POST", "/api/v1/order", h.token, "application/json",
			strings.NewReader(`{"source":"ch9","package_id":1,"channel":"alipay","gateway":"app"}`))
		if r.Status != 200 || r.Code != 0 || r.OrderID == "" {
			t.Fatalf("%d %+v", r.Status, r)
		}
	})
}

// A coupon is locked by the order, used when it is paid, and released when it closes.
func TestCouponLifecycle(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		couponStatus := func() string {
			var list []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			}
			json.Unmarshal(h.get("/api/v1/coupons", h.token).Data, &list)
			if len(list) != 1 {
				t.Fatalf("coupons: %v", list)
			}
			return list[0].Status
		}
		id, _ := h.mustBuy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}})
		o := h.order(id)
		if o.Amount != 3000 || o.Discount != 500 || o.Payable != 2500 || o.Payments[0].Amount != 2500 {
			t.Fatalf("order = %+v", o)
		}
		if s := couponStatus(); s != "locked" {
			t.Fatalf("coupon %s, want locked", s)
		}
		if r := h.buy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}}); r.Status != 409 {
			t.Fatalf("second use of a locked coupon: %d %s", r.Status, r.Message)
		}
		if r := h.post("/api/v1/orders/"+id+"/cancel", h.token, nil); r.Status != 200 {
			t.Fatalf("cancel: %+v", r)
		}
		if s := couponStatus(); s != "available" {
			t.Fatalf("coupon %s after cancel, want available", s)
		}
		if r := h.post("/api/v1/orders/"+id+"/cancel", h.token, nil); r.Status != 200 {
			t.Fatalf("cancel again: %+v", r)
		}
		if r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}}); r.Status != 409 {
			t.Fatalf("pay a closed order: %d", r.Status)
		}
		id2, _ := h.mustBuy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}})
		h.sandboxPay(h.lastOutTradeNo(id2), "")
		if s := couponStatus(); s != "used" {
			t.Fatalf("coupon %s after paying, want used", s)
		}
		if r := h.post("/api/v1/orders/"+id2+"/cancel", h.token, nil); r.Status != 409 {
			t.Fatalf("cancel a paid order: %d", r.Status)
		}
		if h.events("order.closed") != 1 {
			t.Errorf("order.closed events: %d", h.events("order.closed"))
		}
	})
}

// Upgrading a paid package order: the buyer pays the difference, once.
func TestUpgradePaysDifference(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		cost, _ := h.mustBuy("app", url.Values{"package_id": {"1"}})
		h.sandboxPay(h.lastOutTradeNo(cost), "")
		up, cred := h.mustBuy("app", url.Values{"package_id": {"2"}, "cost_order_id": {cost}})
		o := h.order(up)
		if o.Payable != 2400 || o.Discount != 600 {
			t.Fatalf("upgrade order = %+v", o)
		}
		if !strings.Contains(cred, "24.00") {
			t.Errorf("order string does not ask for 24.00: %s", cred)
		}
		if r := h.buy("app", url.Values{"package_id": {"3"}, "cost_order_id": {cost}}); r.Status != 409 {
			t.Fatalf("second upgrade of the same order: %d %s", r.Status, r.Message)
		}
		if r := h.buy("app", url.Values{"package_id": {"1"}, "cost_order_id": {up}}); r.Status != 422 {
			t.Fatalf("upgrade of a pending order: %d %s", r.Status, r.Message)
		}
		// Cancelling the upgrade frees the paid order for another upgrade.
		h.post("/api/v1/orders/"+up+"/cancel", h.token, nil)
		if r := h.buy("app", url.Values{"package_id": {"3"}, "cost_order_id": {cost}}); r.Status != 200 {
			t.Fatalf("upgrade after cancel: %d %s", r.Status, r.Message)
		}
		// Not more expensive: nothing to upgrade.
		cost2, _ := h.mustBuy("app", url.Values{"package_id": {"3"}})
		h.sandboxPay(h.lastOutTradeNo(cost2), "")
		if r := h.buy("app", url.Values{"package_id": {"1"}, "cost_order_id": {cost2}}); r.Status != 422 {
			t.Fatalf("downgrade: %d %s", r.Status, r.Message)
		}
	})
}

// Paying an expired order closes it and gives the coupon back.
func TestExpiredOrderCannotBePaid(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, cred := h.mustBuy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}})
		q, _ := url.ParseQuery(cred)
		if !strings.Contains(q.Get("biz_content"), `"timeout_express":"30m"`) {
			t.Errorf("timeout_express not from the order's expiry: %s", q.Get("biz_content"))
		}
		h.clock.Advance(29 * time.Minute)
		r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}})
		if r.Status != 200 {
			t.Fatalf("re-pay before expiry: %+v", r)
		}
		var cred2 string
		json.Unmarshal(r.Data, &cred2)
		q, _ = url.ParseQuery(cred2)
		if !strings.Contains(q.Get("biz_content"), `"timeout_express":"1m"`) {
			t.Errorf("re-pay timeout_express: %s", q.Get("biz_content"))
		}
		h.clock.Advance(time.Minute)
		r = h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"alipay"}, "gateway": {"app"}})
		if r.Status != 409 || !strings.Contains(r.Message, "expired") {
			t.Fatalf("pay after expiry: %d %s", r.Status, r.Message)
		}
		o := h.order(id)
		if o.Status != "closed" {
			t.Fatalf("expired order is %s", o.Status)
		}
		for _, p := range o.Payments {
			if p.Status != "closed" {
				t.Errorf("attempt %s is %s", p.OutTradeNo, p.Status)
			}
		}
		// The coupon is free again.
		if r := h.buy("app", url.Values{"package_id": {"2"}, "coupon_prop_id": {"1"}}); r.Status != 200 {
			t.Fatalf("coupon after expiry: %d %s", r.Status, r.Message)
		}
	})
}

// An abandoned, expired order does not keep its coupon or the order it
// upgrades from a new order: it is closed when they are asked for.
func TestExpiredOrderReleasesWhatItHolds(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		cost, _ := h.mustBuy("app", url.Values{"package_id": {"1"}})
		h.sandboxPay(h.lastOutTradeNo(cost), "")
		abandoned, _ := h.mustBuy("app", url.Values{"package_id": {"3"}, "coupon_prop_id": {"1"}, "cost_order_id": {cost}})
		if r := h.buy("app", url.Values{"package_id": {"3"}, "coupon_prop_id": {"1"}}); r.Status != 409 {
			t.Fatalf("coupon held by a live order: %d %s", r.Status, r.Message)
		}
		h.clock.Advance(31 * time.Minute)
		if r := h.buy("app", url.Values{"package_id": {"3"}, "coupon_prop_id": {"1"}, "cost_order_id": {cost}}); r.Status != 200 {
			t.Fatalf("coupon and cost order held by an expired order: %d %s", r.Status, r.Message)
		}
		if o := h.order(abandoned); o.Status != "closed" {
			t.Fatalf("abandoned order is %s", o.Status)
		}
	})
}

func TestListsAndHealth(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		var pkgs []map[string]any
		r := h.get("/api/v1/packages", h.token)
		if err := json.Unmarshal(r.Data, &pkgs); err != nil || len(pkgs) != 3 || pkgs[0]["price"] != 600.0 {
			t.Fatalf("packages: %s", r.Data)
		}
		for i := 0; i < 3; i++ {
			h.mustBuy("app", nil)
		}
		var page struct {
			Items []orderView `json:"items"`
			Next  int64       `json:"next_before_id"`
		}
		json.Unmarshal(h.get("/api/v1/orders?limit=2", h.token).Data, &page)
		if len(page.Items) != 2 || page.Next == 0 || page.Items[0].ID < page.Items[1].ID {
			t.Fatalf("first page: %+v", page)
		}
		json.Unmarshal(h.get("/api/v1/orders?limit=2&before_id="+itoa(page.Next), h.token).Data, &page)
		if len(page.Items) != 1 {
			t.Fatalf("second page: %+v", page)
		}
		if r := h.get("/api/v1/orders?status=lost", h.token); r.Status != 400 {
			t.Errorf("unknown status filter: %d", r.Status)
		}
		if r := h.get("/api/v1/orders", h.tokenFor("nobody")); !strings.Contains(string(r.Data), `"items":[]`) {
			t.Errorf("another user's list: %s", r.Data)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(h.url + path)
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("%s: %v %v", path, resp.StatusCode, err)
			}
			resp.Body.Close()
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// An order is priced from the package as it is now, even though packages
// are kept in memory between orders: a new price, a new name or a withdrawn
// package takes effect with the next order.
func TestOrderPricedFromCurrentPackage(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		first, _ := h.mustBuy("app", nil)
		if o := h.order(first); o.Amount != 600 {
			t.Fatalf("first order: %d fen", o.Amount)
		}
		if _, err := h.app.Store.SQL().Exec("UPDATE packages SET price = 700, name = 'Starter pack, new' WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		second, cred := h.mustBuy("app", nil)
		o := h.order(second)
		if o.Amount != 700 || o.Payable != 700 || len(o.Items) != 1 || o.Items[0].UnitPrice != 700 || o.Items[0].Name != "Starter pack, new" {
			t.Fatalf("order after the change: %+v", o)
		}
		if o.Payments[0].Amount != 700 || !strings.Contains(cred, "total_amount%22%3A%227.00") {
			t.Errorf("the attempt asks for %d fen, credential %s", o.Payments[0].Amount, cred)
		}
		if n := h.count("orders"); n != 2 {
			t.Errorf("%d orders written, want 2 (nothing of the stale pricing)", n)
		}
		if _, err := h.app.Store.SQL().Exec("UPDATE packages SET active = FALSE WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		if r := h.buy("app", nil); r.Status != http.StatusNotFound {
			t.Errorf("a withdrawn package: %d %s", r.Status, r.Message)
		}
		if n := h.count("orders"); n != 2 {
			t.Errorf("%d orders after buying a withdrawn package", n)
		}
	})
}
