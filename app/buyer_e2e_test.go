package app_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"cashier/sqlstore/storetest"
)

// Cart: add (merging onto a line), list, change count, remove — each user's own.
func TestCartREST(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id := h.addToCart("1", "1", "2")
		if again := h.addToCart("1", "1", "3"); again != id {
			t.Fatalf("same standard made a new line %s, want %s", again, id)
		}
		var items []struct {
			ID    int64 `json:"id"`
			Count int64 `json:"count"`
		}
		json.Unmarshal(h.get("/api/v1/cart/items", h.token).Data, &items)
		if len(items) != 1 || items[0].Count != 5 {
			t.Fatalf("cart = %+v", items)
		}
		if r := h.do("PATCH", "/api/v1/cart/items/"+id, h.token, "application/x-www-form-urlencoded", strings.NewReader("count=7")); r.Status != 200 {
			t.Fatalf("change count: %d %s", r.Status, r.Message)
		}
		h.admin("PUT", "/admin/api/standards/1/stock", map[string]any{"stock": 5000})
		other := h.tokenFor("someone-else")
		for _, c := range []struct {
			name   string
			method string
			path   string
			token  string
			body   string
			status int
		}{
			{"count 0", "PATCH", "/api/v1/cart/items/" + id, h.token, "count=0", 400},
			{"count too big", "PATCH", "/api/v1/cart/items/" + id, h.token, "count=1000", 400},
			{"someone else's line", "PATCH", "/api/v1/cart/items/" + id, other, "count=1", 404},
			{"remove someone else's line", "DELETE", "/api/v1/cart/items/" + id, other, "", 404},
			{"unknown standard", "POST", "/api/v1/cart/items", h.token, "product_id=1&standard_id=99&count=1", 404},
			{"standard of another product", "POST", "/api/v1/cart/items", h.token, "product_id=1&standard_id=3&count=1", 404},
			{"merging past the limit", "POST", "/api/v1/cart/items", h.token, "product_id=1&standard_id=1&count=995", 400},
			{"line beyond the stock", "PATCH", "/api/v1/cart/items/" + id, h.token, "count=999", 200},
			{"merging beyond the stock", "POST", "/api/v1/cart/items", h.token, "product_id=1&standard_id=2&count=8", 200},
			{"merged line beyond the stock", "POST", "/api/v1/cart/items", h.token, "product_id=1&standard_id=2&count=5", 409},
		} {
			if r := h.do(c.method, c.path, c.token, "application/x-www-form-urlencoded", strings.NewReader(c.body)); r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Message, c.status)
			}
		}
		h.do("PATCH", "/api/v1/cart/items/"+id, h.token, "application/x-www-form-urlencoded", strings.NewReader("count=7"))
		h.admin("PUT", "/admin/api/standards/1/stock", map[string]any{"stock": 6})
		if r := h.do("PATCH", "/api/v1/cart/items/"+id, h.token, "application/x-www-form-urlencoded", strings.NewReader("count=7")); r.Status != 409 {
			t.Errorf("count beyond the stock: %d %s", r.Status, r.Message)
		}
		json.Unmarshal(h.get("/api/v1/cart/items", h.token).Data, &items)
		if len(items) != 2 || items[0].Count != 7 || items[1].Count != 8 {
			t.Fatalf("cart after bad requests = %+v", items)
		}
		if r := h.do("DELETE", "/api/v1/cart/items/"+id, h.token, "", nil); r.Status != 200 {
			t.Fatalf("remove: %d", r.Status)
		}
		if ids := h.cartIDs(); len(ids) != 1 {
			t.Fatalf("cart after remove = %v", ids)
		}
	})
}

// Addresses: create, list, update, default (one at a time), delete; orders
// keep their copy.
func TestAddressesREST(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		r := h.post("/api/v1/addresses", h.token, url.Values{"name": {"Han Meimei"}, "phone": {"+86 139-0000-0000"}, "region": {"Beijing"}, "detail": {"1 Chang'an Avenue"}, "is_default": {"true"}})
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Message)
		}
		type addr struct {
			ID        int64  `json:"id"`
			Detail    string `json:"detail"`
			IsDefault bool   `json:"is_default"`
		}
		list := func() []addr {
			var as []addr
			json.Unmarshal(h.get("/api/v1/addresses", h.token).Data, &as)
			return as
		}
		if as := list(); len(as) != 2 || as[0].IsDefault || !as[1].IsDefault {
			t.Fatalf("addresses = %+v", as)
		}
		// An order copies address 1; changing and deleting it later does not touch the order.
		o := h.shop("/api/ShopPay/productCharge", url.Values{"product_id": {"1"}, "standard_id": {"1"}, "count": {"1"}, "area_id": {"1"}, "pay_type": {"alipay"}})
		if r := h.do("PUT", "/api/v1/addresses/1", h.token, "application/json", strings.NewReader(`{"name":"Li Lei","phone":"13800000000","region":"Shanghai","detail":"moved","is_default":true}`)); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Message)
		}
		if as := list(); as[0].Detail != "moved" || !as[0].IsDefault || as[1].IsDefault {
			t.Fatalf("after update = %+v", as)
		}
		if r := h.post("/api/v1/addresses/2/default", h.token, nil); r.Status != 200 {
			t.Fatalf("default: %d", r.Status)
		}
		if as := list(); as[0].IsDefault || !as[1].IsDefault {
			t.Fatalf("after default = %+v", as)
		}
		h.do("DELETE", "/api/v1/addresses/1", h.token, "", nil)
		if ov := h.order(o.Data.OrderID); ov.Address == nil || ov.Address.Detail != "100 Century Avenue, flat 1201" {
			t.Fatalf("order's address copy = %+v", ov.Address)
		}
		other := h.tokenFor("someone-else")
		for _, c := range []struct {
			name   string
			method string
			path   string
			token  string
			body   string
			status int
		}{
			{"missing name", "POST", "/api/v1/addresses", h.token, "phone=1&region=r&detail=d", 400},
			{"bad phone", "POST", "/api/v1/addresses", h.token, "name=n&phone=call-me&region=r&detail=d", 400},
			{"bad is_default", "POST", "/api/v1/addresses", h.token, "name=n&phone=1&region=r&detail=d&is_default=maybe", 400},
			{"someone else's: update", "PUT", "/api/v1/addresses/2", other, "name=n&phone=1&region=r&detail=d", 404},
			{"someone else's: default", "POST", "/api/v1/addresses/2/default", other, "", 404},
			{"someone else's: delete", "DELETE", "/api/v1/addresses/2", other, "", 404},
			{"deleted", "DELETE", "/api/v1/addresses/1", h.token, "", 404},
		} {
			if r := h.do(c.method, c.path, c.token, "application/x-www-form-urlencoded", strings.NewReader(c.body)); r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Message, c.status)
			}
		}
		if as := list(); len(as) != 1 || !as[0].IsDefault {
			t.Fatalf("after bad requests = %+v", as)
		}
	})
}

// The admin API needs the admin token and checks what it is given.
func TestAdminCatalog(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		if r := h.do("POST", "/admin/api/packages", h.token, "application/json", strings.NewReader(`{"name":"x","price":1}`)); r.Status != 401 {
			t.Fatalf("a user's token on the admin API: %d", r.Status)
		}
		if r := h.do("POST", "/admin/api/packages", "", "application/json", strings.NewReader(`{"name":"x","price":1}`)); r.Status != 401 {
			t.Fatalf("no token on the admin API: %d", r.Status)
		}
		ok := []struct {
			path string
			body any
		}{
			{"/admin/api/packages", map[string]any{"name": "Gold 600", "price": 6000, "gold": 600}},
			{"/admin/api/products", map[string]any{"name": "Stool", "standards": []map[string]any{{"name": "pine", "price": 5000, "stock": 4}}}},
			{"/admin/api/products/1/standards", map[string]any{"name": "cherry", "price": 45000, "stock": 2}},
			{"/admin/api/schemes", map[string]any{"user_id": "demo", "name": "Bookshelf", "price": 150000}},
			{"/admin/api/coupons", map[string]any{"user_id": "demo", "name": "10 off", "discount": 1000, "expires_at": "2030-01-01T00:00:00Z"}},
		}
		for _, c := range ok {
			if r := h.admin("POST", c.path, c.body); r.Status != 201 || r.Code != 0 {
				t.Errorf("%s: %d %s", c.path, r.Status, r.Message)
			}
		}
		if r := h.admin("PUT", "/admin/api/standards/1/stock", map[string]any{"stock": 3}); r.Status != 200 || h.stock(1) != 3 {
			t.Errorf("set stock: %d %s, stock %d", r.Status, r.Message, h.stock(1))
		}
		bad := []struct {
			method, path string
			body         any
			status       int
		}{
			{"POST", "/admin/api/packages", map[string]any{"name": "", "price": 100}, 400},
			{"POST", "/admin/api/packages", map[string]any{"name": "x", "price": 0}, 400},
			{"POST", "/admin/api/packages", map[string]any{"name": "x", "price": 100, "prise": 1}, 400},
			{"POST", "/admin/api/products", map[string]any{"name": "x", "standards": []map[string]any{{"name": "a", "price": 100, "stock": -1}}}, 400},
			{"POST", "/admin/api/products/999/standards", map[string]any{"name": "a", "price": 100, "stock": 1}, 404},
			{"PUT", "/admin/api/standards/1/stock", map[string]any{"stock": -5}, 400},
			{"PUT", "/admin/api/standards/1/stock", map[string]any{}, 400},
			{"PUT", "/admin/api/standards/999/stock", map[string]any{"stock": 1}, 404},
			{"POST", "/admin/api/schemes", map[string]any{"name": "x", "price": 100}, 400},
			{"POST", "/admin/api/coupons", map[string]any{"user_id": "demo", "name": "x", "discount": 100, "expires_at": "2020-01-01T00:00:00Z"}, 400},
		}
		for _, c := range bad {
			if r := h.admin(c.method, c.path, c.body); r.Status != c.status || r.Code == 0 {
				t.Errorf("%s %s %v: %d %s, want %d", c.method, c.path, c.body, r.Status, r.Message, c.status)
			}
		}
		if r := h.do("POST", "/admin/api/packages", h.app.AdminToken, "application/x-www-form-urlencoded", strings.NewReader("name=x&price=1")); r.Status != 400 {
			t.Errorf("form body on the admin API: %d", r.Status)
		}
		if h.stock(1) != 3 {
			t.Errorf("stock changed by bad requests: %d", h.stock(1))
		}
	})
}
