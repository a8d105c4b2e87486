package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier/sqlstore/storetest"
)

// Demo data (seed.go): product 1 "Oak dining chair" with standards 1 (39900,
// stock 20) and 2 (42900, stock 10); product 2 with standards 3 and 4; scheme 1
// of the demo user (880000); address 1 of the demo user, not marked default.

func deliveryTime(h *harness) string {
	return fmt.Sprint(h.clock.Now().Add(14 * 24 * time.Hour).Unix())
}

// Every shop endpoint with each pay type: create → sandbox pay → paid, with
// the line items and the address on the order.
func TestShopBuyAndPay(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		for _, payType := range []string{"alipay", "wechat"} {
			cases := []struct {
				name  string
				path  string
				form  func() url.Values
				kind  string
				items int
				total int64
			}{
				{"product", "/api/ShopPay/productCharge", func() url.Values {
					return url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"2"}, "area_id": {"1"}, "user_remarks": {"ring first"}, "prepay_id": {"dk"}}
				}, "product", 1, 79800},
				{"cart", "/api/ShopPay/shoppingCartCharge", func() url.Values {
					a, b := h.addToCart("1", "2", "1"), h.addToCart("2", "3", "1")
					return url.Values{"cart_array": {`[{"cart_id":` + a + `,"user_remarks":"x"},{"cart_id":"` + b + `","user_remarks":""}]`}, "area_id": {"1"}}
				}, "cart", 2, 42900 + 259900},
				{"customized", "/api/CustomizedPay/buildOrder", func() url.Values {
					return url.Values{"scheme_id": {"1"}, "count": {"1"}, "delivery_time": {deliveryTime(h)}, "area_id": {"1"}}
				}, "customized", 1, 880000},
			}
			for _, c := range cases {
				t.Run(payType+"/"+c.name, func(t *testing.T) {
					form := c.form()
					form.Set("pay_type", payType)
					form.Set("trade_type", "APP")
					r := h.shop(c.path, form)
					if r.Status != 200 || r.Code != 200 || r.Message != "生成订单成功" || r.Data.OrderID == "" || len(r.Data.Result) == 0 {
						t.Fatalf("%d %s", r.Status, r.Raw)
					}
					if payType == "alipay" && !strings.HasPrefix(string(r.Data.Result), `"app_id=`) {
						t.Errorf("alipay result = %s", r.Data.Result)
					}
					if payType == "wechat" && !strings.Contains(string(r.Data.Result), `"package":"Sign=WXPay"`) {
						t.Errorf("wechat result = %s", r.Data.Result)
					}
					o := h.order(r.Data.OrderID)
					if o.Kind != c.kind || len(o.Items) != c.items || o.Payable != c.total || o.Address == nil || o.Address.ID != 1 {
						t.Fatalf("order = %+v", o)
					}
					h.pay(payType, o.Payments[0].OutTradeNo)
					if o := h.order(r.Data.OrderID); o.Status != "paid" || o.PaidAmount != c.total {
						t.Fatalf("after paying: %+v", o)
					}
				})
			}
		}
		// trade_type NATIVE and MWEB reach the other gateways.
		r := h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"wechat"}, "trade_type": {"NATIVE"}})
		if r.Status != 200 || !strings.Contains(string(r.Data.Result), "code_url") {
			t.Errorf("wechat NATIVE: %s", r.Raw)
		}
		r = h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"alipay"}, "trade_type": {"MWEB"}})
		if r.Status != 200 || !strings.Contains(string(r.Data.Result), "alipay.trade.wap.pay") {
			t.Errorf("alipay MWEB: %s", r.Raw)
		}
	})
}

// Problem 1: cart checkout returned several order ids, so "cancel payment → go
// to order detail" could not work. Now one order, one line per cart line.
func TestShopProblem1CartCheckoutIsOneOrder(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		a, b := h.addToCart("1", "1", "1"), h.addToCart("1", "2", "2")
		r := h.shop("/api/ShopPay/shoppingCartCharge", url.Values{"cart_array": {`[{"cart_id":` + a + `,"user_remarks":"a"},{"cart_id":` + b + `,"user_remarks":"b"}]`},
			"pay_type": {"wechat"}, "area_id": {"1"}, "trade_type": {"APP"}, "prepay_id": {"dk"}})
		if r.Status != 200 || r.Data.OrderID == "" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if len(r.Data.OrderIDArray) != 1 || r.Data.OrderIDArray[0] != r.Data.OrderID {
			t.Fatalf("order_id_array = %v, order_id = %s", r.Data.OrderIDArray, r.Data.OrderID)
		}
		if n := h.count("orders"); n != 1 {
			t.Fatalf("%d orders", n)
		}
		o := h.order(r.Data.OrderID)
		if len(o.Items) != 2 || o.Items[0].Remarks != "a" || o.Items[1].Remarks != "b" || o.Payable != 39900+2*42900 {
			t.Fatalf("order = %+v", o)
		}
		// Cancel the payment → the order's detail page works, and it can be paid again.
		r2 := h.shop("/api/ShopPay/orderCharge", url.Values{"order_id": {r.Data.OrderID}, "pay_type": {"alipay"}})
		if r2.Status != 200 || r2.Data.OrderID != r.Data.OrderID {
			t.Fatalf("pay again: %s", r2.Raw)
		}
	})
}

// Problem 2: cart lines were not removed after ordering. Now the checked-out
// lines (and only those) go in the order's transaction; a failed checkout
// removes nothing.
func TestShopProblem2CartLinesRemovedWithTheOrder(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		a, b, keep := h.addToCart("1", "1", "1"), h.addToCart("2", "3", "1"), h.addToCart("2", "4", "1")
		r := h.shop("/api/ShopPay/shoppingCartCharge", url.Values{"cart_array": {`[{"cart_id":` + a + `},{"cart_id":` + b + `}]`}, "pay_type": {"alipay"}, "area_id": {"1"}})
		if r.Status != 200 {
			t.Fatalf("%s", r.Raw)
		}
		if ids := h.cartIDs(); len(ids) != 1 || itoa(ids[0]) != keep {
			t.Fatalf("cart after checkout = %v, want [%s]", ids, keep)
		}
		// A checkout that fails (out of stock) removes nothing.
		h.admin("PUT", "/admin/api/standards/4/stock", map[string]any{"stock": 0})
		other := h.addToCart("1", "1", "1")
		r = h.shop("/api/ShopPay/shoppingCartCharge", url.Values{"cart_array": {`[{"cart_id":` + other + `},{"cart_id":` + keep + `}]`}, "pay_type": {"alipay"}, "area_id": {"1"}})
		if r.Status != 409 || r.Code == 200 || !strings.Contains(r.Message, "out of stock") {
			t.Fatalf("out-of-stock checkout: %d %s", r.Status, r.Raw)
		}
		if ids := h.cartIDs(); len(ids) != 2 {
			t.Fatalf("cart after a failed checkout = %v", ids)
		}
	})
}

// Problem 3: customized orders returned no order id.
func TestShopProblem3CustomizedOrderHasOrderID(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		for _, pt := range []string{"alipay", "wechat"} {
			r := h.shop("/api/CustomizedPay/buildOrder", url.Values{"scheme_id": {"1"}, "count": {"1"}, "delivery_time": {deliveryTime(h)},
				"pay_type": {pt}, "area_id": {"1"}, "trade_type": {"APP"}, "prepay_id": {"dk"}})
			if r.Status != 200 || r.Data.OrderID == "" {
				t.Fatalf("%s: %s", pt, r.Raw)
			}
			o := h.order(r.Data.OrderID)
			if o.Kind != "customized" || o.Items[0].SchemeID != 1 || o.Items[0].DeliveryTime == "" {
				t.Fatalf("order = %+v", o)
			}
		}
	})
}

// Problem 4: re-paying a customized order after cancelling the payment said
// "结算缓存已失效，请重新结算". Nothing lives in a cache: pay again, any number of
// times, until paid.
func TestShopProblem4RepayCustomizedAfterCancel(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		r := h.shop("/api/CustomizedPay/buildOrder", url.Values{"scheme_id": {"1"}, "count": {"1"}, "delivery_time": {deliveryTime(h)}, "pay_type": {"wechat"}, "area_id": {"1"}})
		if r.Status != 200 {
			t.Fatalf("%s", r.Raw)
		}
		id := r.Data.OrderID
		for i, pt := range []string{"wechat", "alipay", "wechat", "alipay"} { // the buyer cancels in the app each time
			r := h.shop("/api/ShopPay/orderCharge", url.Values{"order_id": {id}, "pay_type": {pt}, "trade_type": {"APP"}})
			if r.Status != 200 || r.Code != 200 || r.Data.OrderID != id || strings.Contains(r.Message, "结算缓存") {
				t.Fatalf("re-pay %d: %s", i, r.Raw)
			}
		}
		// The same through the REST API.
		if r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"wechat"}, "gateway": {"app"}}); r.Status != 200 {
			t.Fatalf("REST re-pay: %d %s", r.Status, r.Message)
		}
		o := h.order(id)
		if len(o.Payments) != 6 {
			t.Fatalf("%d attempts", len(o.Payments))
		}
		h.pay("wechat", o.Payments[5].OutTradeNo)
		if o := h.order(id); o.Status != "paid" {
			t.Fatalf("order = %+v", o)
		}
		if r := h.shop("/api/ShopPay/orderCharge", url.Values{"order_id": {id}, "pay_type": {"wechat"}}); r.Status != 409 {
			t.Fatalf("re-pay a paid order: %s", r.Raw)
		}
	})
}

// Problem 5: the settlement page returned no address when the user had exactly
// one, not marked default. Now: the default, else the only one, else none (and
// it says so) — for product, cart and scheme checkouts.
func TestShopProblem5SettlementOffersTheOnlyAddress(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		cart := h.addToCart("1", "1", "1")
		forms := map[string]url.Values{
			"product": {"product_id": {"1"}, "standard_id": {"1"}, "count": {"2"}},
			"cart":    {"cart_array": {`[{"cart_id":` + cart + `}]`}},
			"scheme":  {"scheme_id": {"1"}, "count": {"1"}},
		}
		settle := func(name string) (int64, string, int64) {
			r := h.shop("/api/ShopPay/settlement", forms[name])
			var d struct {
				Address *struct {
					ID int64 `json:"id"`
				} `json:"address"`
				Note    string `json:"address_message"`
				Payable int64  `json:"payable"`
			}
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			json.Unmarshal(r.Raw, &env)
			json.Unmarshal(env.Data, &d)
			if r.Status != 200 || r.Code != 200 {
				t.Fatalf("settle %s: %s", name, r.Raw)
			}
			if d.Address == nil {
				return 0, d.Note, d.Payable
			}
			return d.Address.ID, d.Note, d.Payable
		}
		for name := range forms {
			if id, _, payable := settle(name); id != 1 || payable == 0 {
				t.Errorf("%s: only address (not default) → address %d, payable %d", name, id, payable)
			}
		}
		// Two addresses, none default: the buyer chooses; the page says so.
		h.post("/api/v1/addresses", h.token, url.Values{"name": {"Han Meimei"}, "phone": {"13900000000"}, "region": {"Beijing"}, "detail": {"1 Chang'an Avenue"}})
		for name := range forms {
			if id, note, _ := settle(name); id != 0 || note == "" {
				t.Errorf("%s: two addresses, no default → address %d, note %q", name, id, note)
			}
		}
		// A default wins.
		h.post("/api/v1/addresses/2/default", h.token, nil)
		for name := range forms {
			if id, _, _ := settle(name); id != 2 {
				t.Errorf("%s: default address → %d", name, id)
			}
		}
		// None at all.
		h.do("DELETE", "/api/v1/addresses/1", h.token, "", nil)
		h.do("DELETE", "/api/v1/addresses/2", h.token, "", nil)
		for name := range forms {
			if id, note, _ := settle(name); id != 0 || !strings.Contains(note, "no shipping address") {
				t.Errorf("%s: no address → %d %q", name, id, note)
			}
		}
	})
}

// 50 buyers at once for a standard with stock 10: exactly 10 orders, stock 0,
// 40 clear "out of stock" answers.
func TestShopStockUnderConcurrentBuyers(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		r := h.admin("POST", "/admin/api/products", map[string]any{"name": "Limited lamp", "standards": []map[string]any{{"name": "brass", "price": 9900, "stock": 10}}})
		var p struct {
			ID        int64 `json:"id"`
			Standards []struct {
				ID int64 `json:"id"`
			} `json:"standards"`
		}
		if r.Status != 201 || json.Unmarshal(r.Data, &p) != nil {
			t.Fatalf("create product: %d %s", r.Status, r.Message)
		}
		form := url.Values{"product_id": {itoa(p.ID)}, "standard_id": {itoa(p.Standards[0].ID)}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"alipay"}}
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := h.shop("/api/ShopPay/productCharge", form)
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
				if r.Status == 409 && !strings.Contains(r.Message, "out of stock") {
					t.Errorf("409 says %q", r.Message)
				}
			}()
		}
		wg.Wait()
		if statuses[200] != 10 || statuses[409] != 40 {
			t.Fatalf("answers %v, want 10×200 and 40×409", statuses)
		}
		if s := h.stock(p.Standards[0].ID); s != 0 {
			t.Fatalf("stock %d, want 0", s)
		}
		if n := h.count("orders"); n != 10 {
			t.Fatalf("%d orders, want 10", n)
		}
	})
}

// Closing an unpaid order gives its stock back; paying keeps it taken.
func TestShopClosingReleasesStock(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		before := h.stock(2)
		r := h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"2"}, "count": {"3"}, "area_id": {"1"}, "pay_type": {"alipay"}})
		if r.Status != 200 || h.stock(2) != before-3 {
			t.Fatalf("after ordering: %s, stock %d", r.Raw, h.stock(2))
		}
		h.post("/api/v1/orders/"+r.Data.OrderID+"/cancel", h.token, nil)
		if s := h.stock(2); s != before {
			t.Fatalf("after cancelling: stock %d, want %d", s, before)
		}
		h.post("/api/v1/orders/"+r.Data.OrderID+"/cancel", h.token, nil) // twice: nothing more comes back
		if s := h.stock(2); s != before {
			t.Fatalf("after cancelling twice: stock %d, want %d", s, before)
		}
		// Expiry releases it too.
		r = h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"2"}, "count": {"2"}, "area_id": {"1"}, "pay_type": {"wechat"}})
		h.clock.Advance(31 * time.Minute)
		if r2 := h.shop("/api/ShopPay/orderCharge", url.Values{"order_id": {r.Data.OrderID}, "pay_type": {"wechat"}}); r2.Status != 409 {
			t.Fatalf("pay expired: %s", r2.Raw)
		}
		if s := h.stock(2); s != before {
			t.Fatalf("after expiry: stock %d, want %d", s, before)
		}
		// A paid order keeps its stock.
		r = h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"2"}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"alipay"}})
		h.pay("alipay", h.lastOutTradeNo(r.Data.OrderID))
		if s := h.stock(2); s != before-1 {
			t.Fatalf("after paying: stock %d, want %d", s, before-1)
		}
	})
}
