package app_test

import (
	"net/url"
	"strings"
	"testing"

	"cashier/sqlstore/storetest"
)

// Bad shop input: a clear error, code ≠ 200, nothing written, stock and cart
// unchanged.
func TestShopBadInput(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		other := h.tokenFor("someone-else")
		// Someone else's cart line, address and scheme.
		r := h.post("/api/v1/cart/items", other, url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"1"}})
		if r.Status != 200 {
			t.Fatalf("other's cart: %d %s", r.Status, r.Message)
		}
		h.post("/api/v1/addresses", other, url.Values{"name": {"X"}, "phone": {"1"}, "region": {"R"}, "detail": {"D"}}) // id 2
		h.admin("POST", "/admin/api/schemes", map[string]any{"user_id": "someone-else", "name": "Their wardrobe", "price": 100})
		mine := h.addToCart("1", "1", "1")
		h.admin("PUT", "/admin/api/standards/3/stock", map[string]any{"stock": 0})
		orders, stock1, cart := h.count("orders"), h.stock(1), h.count("cart_items")

		product := func(kv ...string) url.Values {
			f := url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"alipay"}}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == "<del>" {
					f.Del(kv[i])
				} else {
					f.Set(kv[i], kv[i+1])
				}
			}
			return f
		}
		cartForm := func(arr string) url.Values {
			return url.Values{"cart_array": {arr}, "area_id": {"1"}, "pay_type": {"wechat"}}
		}
		scheme := func(kv ...string) url.Values {
			f := url.Values{"scheme_id": {"1"}, "count": {"1"}, "delivery_time": {deliveryTime(h)}, "area_id": {"1"}, "pay_type": {"alipay"}}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		const pc, cc, bo = "/api/ShopPay/productCharge", "/api/ShopPay/shoppingCartCharge", "/api/CustomizedPay/buildOrder"
		cases := []struct {
			name   string
			path   string
			form   url.Values
			status int
			says   string
		}{
			{"unknown product", pc, product("product_id", "999"), 404, "product 999 not found"},
			{"unknown standard", pc, product("standard_id", "999"), 404, "has no standard 999"},
			{"standard of another product", pc, product("standard_id", "3"), 404, "has no standard 3"},
			{"count 0", pc, product("count", "0"), 400, "count"},
			{"count negative", pc, product("count", "-2"), 400, "count"},
			{"absurd count", pc, product("count", "100000"), 400, "count must be between 1 and 999"},
			{"out of stock", pc, product("standard_id", "3", "product_id", "2"), 409, "out of stock"},
			{"more than the stock", pc, product("count", "21"), 409, "out of stock"},
			{"missing address", pc, product("area_id", "<del>"), 400, "area_id is required"},
			{"unknown address", pc, product("area_id", "999"), 404, "address 999 not found"},
			{"someone else's address", pc, product("area_id", "2"), 404, "address 2 not found"},
			{"missing pay_type", pc, product("pay_type", "<del>"), 400, "pay_type is required"},
			{"unknown pay_type", pc, product("pay_type", "cash"), 400, "unknown pay_type"},
			{"unknown trade_type", pc, product("trade_type", "JSAPI"), 400, "unknown trade_type"},
			{"non-numeric product", pc, product("product_id", "chair"), 400, "product_id must be a positive integer"},
			{"malformed cart_array", cc, cartForm(`[{"cart_id":`), 400, "cart_array must be a JSON array"},
			{"cart_array not a list", cc, cartForm(`{"cart_id":1}`), 400, "cart_array must be a JSON array"},
			{"cart_id not a number", cc, cartForm(`[{"cart_id":"x"}]`), 400, "cart_array must be a JSON array"},
			{"empty cart selection", cc, cartForm(`[]`), 400, "cart_array is empty"},
			{"missing cart_array", cc, url.Values{"area_id": {"1"}, "pay_type": {"alipay"}}, 400, "cart_array is required"},
			{"unknown cart line", cc, cartForm(`[{"cart_id":999}]`), 404, "cart line 999 not found"},
			{"someone else's cart line", cc, cartForm(`[{"cart_id":1}]`), 404, "cart line 1 not found"},
			{"a cart line twice", cc, cartForm(`[{"cart_id":` + mine + `},{"cart_id":` + mine + `}]`), 400, "listed twice"},
			{"unknown scheme", bo, scheme("scheme_id", "999"), 404, "scheme 999 not found"},
			{"someone else's scheme", bo, scheme("scheme_id", "2"), 404, "scheme 2 not found"},
			{"delivery_time in the past", bo, scheme("delivery_time", "1526572800"), 422, "in the past"},
			{"delivery_time not a number", bo, scheme("delivery_time", "tomorrow"), 400, "delivery_time must be a positive integer"},
			{"scheme count 0", bo, scheme("count", "0"), 400, "count"},
			{"pay an unknown order", "/api/ShopPay/orderCharge", url.Values{"order_id": {"999"}, "pay_type": {"alipay"}}, 404, "order 999 not found"},
		}
		for _, c := range cases {
			r := h.shop(c.path, c.form)
			if r.Status != c.status || r.Code == 200 || r.Code == 0 || !strings.Contains(r.Message, c.says) {
				t.Errorf("%s: %d code %d %q; want %d with %q", c.name, r.Status, r.Code, r.Message, c.status, c.says)
			}
		}
		if n := h.count("orders"); n != orders {
			t.Errorf("orders: %d, want %d", n, orders)
		}
		if s := h.stock(1); s != stock1 {
			t.Errorf("stock: %d, want %d", s, stock1)
		}
		if n := h.count("cart_items"); n != cart {
			t.Errorf("cart lines: %d, want %d", n, cart)
		}
		// Without a token: 401.
		if r := h.shopAs("", "/api/ShopPay/productCharge", product()); r.Status != 401 {
			t.Errorf("no token: %d", r.Status)
		}
	})
}
