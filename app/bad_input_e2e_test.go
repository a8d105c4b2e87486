package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier/api"
	"cashier/sqlstore/storetest"
)

// snapshot is every row of every table cashier writes, River's jobs
// included: what a rejected request must leave as it found it.
func (h *harness) snapshot() string {
	h.t.Helper()
	var b strings.Builder
	for _, table := range []string{"packages", "coupons", "orders", "order_items", "payments", "inbound_messages", "events",
		"products", "standards", "schemes", "cart_items", "addresses", "refunds", "webhook_endpoints",
		"webhook_deliveries", "idempotency_keys", "river_job"} {
		rows, err := h.app.Store.SQL().Query("SELECT * FROM " + table + " ORDER BY 1")
		if err != nil {
			h.t.Fatalf("snapshot %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				h.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// badRequest is one malformed request and what its answer must say.
type badRequest struct {
	name        string
	method      string
	path        string // may carry raw escapes: sent as written
	contentType string
	body        string
	auth        string // "user" (default), "admin", "none", or a token
	header      [2]string
	status      int    // 0: any 4xx
	says        string // in the message
}

func (h *harness) send(c badRequest) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(c.method, h.url+c.path, strings.NewReader(c.body))
	if err != nil {
		h.t.Fatalf("%s: %v", c.name, err)
	}
	switch c.auth {
	case "", "user":
		req.Header.Set("Authorization", "Bearer "+h.token)
	case "admin":
		req.Header.Set("Authorization", "Bearer "+h.app.AdminToken)
	case "none":
	default:
		req.Header.Set("Authorization", "Bearer "+c.auth)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.header[0] != "" {
		req.Header[c.header[0]] = []string{c.header[1]}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s: %v", c.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return resp.StatusCode, string(raw)
	}
	return resp.StatusCode, env.Message
}

// Malformed requests over the order, shop, admin and notify endpoints: each
// gets a 4xx whose message says what is wrong, and the database is exactly
// as it was — the same on SQLite and PostgreSQL (which refuses NUL bytes and
// invalid UTF-8 in text, and used to answer 500).
func TestMalformedRequestsChangeNothing(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		paid, _ := h.mustBuy("app", nil)
		h.pay("alipay", h.lastOutTradeNo(paid))
		h.mustBuy("app", nil)
		secret := h.app.JWTSecret
		otherKey, _ := api.IssueToken([]byte(strings.Repeat("k", 32)), "demo", time.Now(), time.Hour)
		expired, _ := api.IssueToken(secret, "demo", time.Now().Add(-3*time.Hour), time.Hour)
		nulSub, _ := api.IssueToken(secret, "de\x00mo", time.Now(), time.Hour)

		const form, js = "application/x-www-form-urlencoded", "application/json"
		noProduct := h.do("POST", "/admin/api/packages", h.app.AdminToken, js, strings.NewReader(`{"name":"Web only","price":100}`))
		var pkg struct {
			ID int64 `json:"id"`
		}
		if noProduct.Status != 201 || json.Unmarshal(noProduct.Data, &pkg) != nil {
			t.Fatalf("a package without apple_product_id: %d %s", noProduct.Status, noProduct.Message)
		}
		order := "source=s&package_id=1&channel=alipay&gateway=app"
		orderJSON := `{"source":"s","package_id":1,"channel":"alipay","gateway":"app"}`
		cases := []badRequest{
			{name: "NUL in source", method: "POST", path: "/api/v1/order", contentType: form, body: "source=a%00b&package_id=1&channel=alipay&gateway=app", status: 400, says: "source contains a NUL byte"},
			{name: "invalid UTF-8 in source", method: "POST", path: "/api/v1/order", contentType: form, body: "source=%FF%FE&package_id=1&channel=alipay&gateway=app", status: 400, says: "source is not valid UTF-8"},
			{name: "package_id +1", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=%2B1", 1), status: 400, says: "package_id"},
			{name: "package_id with spaces", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=%201%20", 1), status: 400, says: "package_id"},
			{name: "package_id 1e3", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=1e3", 1), status: 400, says: "package_id"},
			{name: "package_id 0x10", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=0x10", 1), status: 400, says: "package_id"},
			{name: "package_id -1", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=-1", 1), status: 400, says: "package_id"},
			{name: "package_id beyond int64", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=99999999999999999999", 1), status: 400, says: "package_id"},
			{name: "package_id 0", method: "POST", path: "/api/v1/order", contentType: form, body: strings.Replace(order, "package_id=1", "package_id=0", 1), status: 400, says: "package_id"},
			{name: "coupon_prop_id not a number", method: "POST", path: "/api/v1/order", contentType: form, body: order + "&coupon_prop_id=abc", status: 400, says: "coupon_prop_id"},
			{name: "cost_order_id 1.0", method: "POST", path: "/api/v1/order", contentType: form, body: order + "&cost_order_id=1.0", status: 400, says: "cost_order_id"},
			{name: "apple: a package without apple_product_id", method: "POST", path: "/api/v1/order", contentType: form, body: fmt.Sprintf("source=s&package_id=%d&channel=apple", pkg.ID), status: 400, says: "has no apple_product_id"},
			{name: "apple: with a coupon", method: "POST", path: "/api/v1/order", contentType: form, body: "source=s&package_id=3&channel=apple&coupon_prop_id=1", status: 400, says: "coupon or an upgrade cannot be used with channel apple"},
			{name: "apple: with an upgrade", method: "POST", path: "/api/v1/order", contentType: form, body: "source=s&package_id=3&channel=apple&cost_order_id=" + paid, status: 400, says: "coupon or an upgrade cannot be used with channel apple"},
			{name: "apple verify: no order_id", method: "POST", path: "/api/v1/order/apple/verify", contentType: form, body: "signed_transaction=a.b.c", status: 400, says: "order_id"},
			{name: "apple verify: order_id 1e3", method: "POST", path: "/api/v1/order/apple/verify", contentType: form, body: "order_id=1e3&signed_transaction=a.b.c", status: 400, says: "order_id"},
			{name: "apple verify: no such order", method: "POST", path: "/api/v1/order/apple/verify", contentType: form, body: "order_id=999999&signed_transaction=a.b.c", status: 404, says: "not found"},
			{name: "apple verify: no token", method: "POST", path: "/api/v1/order/apple/verify", auth: "none", contentType: form, body: "order_id=1&signed_transaction=a.b.c", status: 401, says: ""},
			{name: "NUL in channel", method: "POST", path: "/api/v1/order", contentType: form, body: "source=s&package_id=1&channel=ali%00pay&gateway=app", status: 400, says: "channel contains a NUL byte"},
			{name: "invalid UTF-8 in gateway", method: "POST", path: "/api/v1/order", contentType: form, body: "source=s&package_id=1&channel=alipay&gateway=%C3", status: 400, says: "gateway is not valid UTF-8"},
			{name: "JSON with a second object", method: "POST", path: "/api/v1/order", contentType: js, body: orderJSON + ` {"package_id":2}`, status: 400, says: "after its object"},
			{name: "JSON with trailing garbage", method: "POST", path: "/api/v1/order", contentType: js, body: orderJSON + `xyz`, status: 400, says: "after its object"},
			{name: "JSON string with NUL escape", method: "POST", path: "/api/v1/order", contentType: js, body: `{"source":"a\u0000b","package_id":1,"channel":"alipay","gateway":"app"}`, status: 400, says: "source contains a NUL byte"},
			{name: "JSON with invalid UTF-8", method: "POST", path: "/api/v1/order", contentType: js, body: "{\"source\":\"\xff\",\"package_id\":1,\"channel\":\"alipay\",\"gateway\":\"app\"}", status: 400, says: "not valid UTF-8"},
			{name: "JSON array", method: "POST", path: "/api/v1/order", contentType: js, body: `[1,2]`, status: 400, says: "not a JSON object"},
			{name: "JSON package_id 1.5", method: "POST", path: "/api/v1/order", contentType: js, body: `{"source":"s","package_id":1.5,"channel":"alipay","gateway":"app"}`, status: 400, says: "package_id"},
			{name: "unsupported Content-Type", method: "POST", path: "/api/v1/order", contentType: "text/plain", body: order, status: 400, says: "Content-Type"},
			{name: "malformed form", method: "POST", path: "/api/v1/order", contentType: form, body: order + "&x=%zz", status: 400, says: "form body is malformed"},
			{name: "Idempotency-Key with byte 0xFF", method: "POST", path: "/api/v1/order", contentType: form, body: order, header: [2]string{"Idempotency-Key", "key\xff"}, status: 400, says: "Idempotency-Key"},
			{name: "Idempotency-Key with a space", method: "POST", path: "/api/v1/order", contentType: form, body: order, header: [2]string{"Idempotency-Key", "a key"}, status: 400, says: "Idempotency-Key"},
			{name: "Idempotency-Key of 300 characters", method: "POST", path: "/api/v1/order", contentType: form, body: order, header: [2]string{"Idempotency-Key", strings.Repeat("k", 300)}, status: 400, says: "longer than 255"},
			{name: "token signed with another key", method: "POST", path: "/api/v1/order", contentType: form, body: order, auth: otherKey, status: 401, says: "not signed with this server's key"},
			{name: "expired token", method: "POST", path: "/api/v1/order", contentType: form, body: order, auth: expired, status: 401, says: "expired at"},
			{name: "malformed token", method: "POST", path: "/api/v1/order", contentType: form, body: order, auth: "abc.def", status: 401, says: "malformed token"},
			{name: "token whose sub has a NUL", method: "POST", path: "/api/v1/order", contentType: form, body: order, auth: nulSub, status: 401, says: "sub"},
			{name: "NUL in a query parameter", method: "GET", path: "/api/v1/orders?status=%00", status: 400, says: "status contains a NUL byte"},
			{name: "limit 1e3", method: "GET", path: "/api/v1/orders?limit=1e3", status: 400, says: "limit"},
			{name: "malformed query string", method: "GET", path: "/api/v1/orders?limit=%zz", status: 400, says: "query string is malformed"},
			{name: "order id +1", method: "GET", path: "/api/v1/orders/%2B1", status: 400, says: "id must be a positive integer"},
			{name: "order id with NUL", method: "GET", path: "/api/v1/orders/1%00", status: 400, says: "path contains a NUL byte"},
			{name: "pay again with invalid UTF-8 channel", method: "POST", path: "/api/v1/orders/" + paid + "/pay", contentType: form, body: "channel=%FF&gateway=app", status: 400, says: "channel is not valid UTF-8"},
			{name: "cancel with order id 1e1", method: "POST", path: "/api/v1/orders/1e1/cancel", status: 400, says: "id"},

			{name: "shop: NUL in user_remarks", method: "POST", path: "/api/ShopPay/productCharge", contentType: form, body: "product_id=1&standard_id=1&count=1&pay_type=alipay&area_id=1&user_remarks=ring%00first", status: 400, says: "user_remarks contains a NUL byte"},
			{name: "shop: count +2", method: "POST", path: "/api/ShopPay/productCharge", contentType: form, body: "product_id=1&standard_id=1&count=%2B2&pay_type=alipay&area_id=1", status: 400, says: "count"},
			{name: "shop: cart_array with trailing data", method: "POST", path: "/api/ShopPay/shoppingCartCharge", contentType: form, body: "pay_type=alipay&area_id=1&cart_array=" + url.QueryEscape(`[{"cart_id":1}] x`), status: 400, says: "cart_array"},
			{name: "shop: cart_array remark with NUL", method: "POST", path: "/api/ShopPay/shoppingCartCharge", contentType: form, body: "pay_type=alipay&area_id=1&cart_array=" + url.QueryEscape(`[{"cart_id":1,"user_remarks":"a\u0000"}]`), status: 400, says: "user_remarks contains a NUL byte"},
			{name: "shop: delivery_time 1e9", method: "POST", path: "/api/CustomizedPay/buildOrder", contentType: form, body: "scheme_id=1&count=1&delivery_time=1e9&pay_type=alipay&area_id=1", status: 400, says: "delivery_time"},
			{name: "address: NUL in name", method: "POST", path: "/api/v1/addresses", contentType: form, body: "name=Li%00Lei&phone=1&region=R&detail=D", status: 400, says: "name contains a NUL byte"},
			{name: "address: invalid UTF-8 in detail", method: "POST", path: "/api/v1/addresses", contentType: form, body: "name=Li&phone=1&region=R&detail=%E4%B8", status: 400, says: "detail is not valid UTF-8"},
			{name: "cart: count 0x2", method: "POST", path: "/api/v1/cart/items", contentType: form, body: "product_id=1&standard_id=1&count=0x2", status: 400, says: "count"},

			{name: "admin: product name with NUL", method: "POST", path: "/admin/api/products", auth: "admin", contentType: js, body: `{"name":"Chair\u0000","standards":[{"name":"oak","price":100,"stock":1}]}`, status: 400, says: "name contains a NUL byte"},
			{name: "admin: standard name with NUL", method: "POST", path: "/admin/api/products", auth: "admin", contentType: js, body: `{"name":"Chair","standards":[{"name":"o\u0000ak","price":100,"stock":1}]}`, status: 400, says: "standards[0].name"},
			{name: "admin: package with trailing data", method: "POST", path: "/admin/api/packages", auth: "admin", contentType: js, body: `{"name":"P","price":100} {}`, status: 400, says: "after its object"},
			{name: "admin: refund reason with NUL", method: "POST", path: "/admin/api/orders/" + paid + "/refunds", auth: "admin", contentType: js, body: `{"amount":100,"reason":"r\u0000"}`, status: 400, says: "reason contains a NUL byte"},
			{name: "admin: scheme user_id with NUL", method: "POST", path: "/admin/api/schemes", auth: "admin", contentType: js, body: `{"user_id":"u\u0000","name":"S","price":100}`, status: 400, says: "user_id contains a NUL byte"},
			{name: "admin: coupon with invalid UTF-8", method: "POST", path: "/admin/api/coupons", auth: "admin", contentType: js, body: "{\"user_id\":\"demo\",\"name\":\"\xc3\",\"discount\":1}", status: 400, says: "not valid UTF-8"},
			{name: "admin: webhook url with NUL", method: "POST", path: "/admin/api/webhooks", auth: "admin", contentType: js, body: `{"url":"http://127.0.0.1:9/\u0000"}`, status: 400, says: "url contains a NUL byte"},
			{name: "admin: order search user_id NUL", method: "GET", path: "/admin/api/orders?user_id=%00", auth: "admin", status: 400, says: "user_id contains a NUL byte"},
			{name: "admin: message log channel invalid UTF-8", method: "GET", path: "/admin/api/inbound?channel=%FF", auth: "admin", status: 400, says: "channel is not valid UTF-8"},
			{name: "admin: resend event id with NUL", method: "POST", path: "/admin/api/events/evt%00/resend", auth: "admin", status: 400, says: "path contains a NUL byte"},
			{name: "admin: stock +5", method: "PUT", path: "/admin/api/standards/%2B1/stock", auth: "admin", contentType: js, body: `{"stock":5}`, status: 400, says: "id"},

			{name: "notify: invalid UTF-8 in the extra segment", method: "POST", path: "/api/v1/order/notify/alipay/%FF", auth: "none", contentType: form, body: "a=1", status: 400, says: "path is not valid UTF-8"},
			{name: "notify: NUL in the query", method: "POST", path: "/api/v1/order/notify/alipay?x=%00", auth: "none", contentType: form, body: "a=1", status: 400, says: "x contains a NUL byte"},
			{name: "notify: NUL in the channel", method: "POST", path: "/api/v1/order/notify/ali%00pay", auth: "none", contentType: form, body: "a=1", status: 400, says: "NUL"},
			{name: "notify: body over 64 KiB", method: "POST", path: "/api/v1/order/notify/alipay", auth: "none", contentType: form, body: "a=" + strings.Repeat("x", 70<<10), status: 413, says: "larger than"},
			{name: "notify: unknown channel", method: "POST", path: "/api/v1/order/notify/paypal", auth: "none", contentType: form, body: "a=1", status: 404, says: "no notify endpoint"},
		}
		before := h.snapshot()
		for _, c := range cases {
			status, msg := h.send(c)
			if status < 400 || status > 499 || (c.status != 0 && status != c.status) {
				t.Errorf("%s: status %d (%s), want %d", c.name, status, msg, c.status)
			} else if msg == "" || !strings.Contains(msg, c.says) {
				t.Errorf("%s: message %q does not say %q", c.name, msg, c.says)
			}
		}
		if after := h.snapshot(); after != before {
			t.Errorf("the database changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if len(cases) < 40 {
			t.Errorf("only %d malformed requests", len(cases))
		}
	})
}

// A JSON body sent as a form (curl -d '{…}') or with no Content-Type is
// read as JSON, not answered "package_id is required".
func TestJSONWithoutContentType(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		body := `{"source":"s","package_id":1,"channel":"alipay","gateway":"app"}`
		for _, ct := range []string{"", "application/x-www-form-urlencoded"} {
			r := h.do("POST", "/api/v1/order", h.token, ct, strings.NewReader(body))
			if r.Status != 200 || r.OrderID == "" {
				t.Errorf("Content-Type %q: %d %s", ct, r.Status, r.Message)
			}
		}
		req, _ := http.NewRequest("POST", h.url+"/admin/api/packages", strings.NewReader(`{"name":"P","price":100}`))
		req.Header.Set("Authorization", "Bearer "+h.app.AdminToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Errorf("admin JSON sent as a form: %d", resp.StatusCode)
		}
	})
}
