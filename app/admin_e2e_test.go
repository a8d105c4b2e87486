package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cashier/sqlstore/storetest"
)

// Where an operator looks: order search, the channel message log, the console.
func TestAdminSearchAndConsole(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		otn := h.lastOutTradeNo(id)
		h.pay("alipay", otn)
		h.post("/api/v1/order", h.tokenFor("other"), url.Values{"source": {"s"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}})
		forged := signAlipay(t, h.otherKey(), h.alipayNotification(otn, "6.00", nil)).Encode()
		h.notify(forged)

		var orders []struct {
			ID     int64  `json:"id"`
			UserID string `json:"user_id"`
			Status string `json:"status"`
		}
		r := h.do("GET", "/admin/api/orders?status=paid", h.app.AdminToken, "", nil)
		if json.Unmarshal(r.Data, &orders); r.Status != 200 || len(orders) != 1 || orders[0].UserID != "demo" {
			t.Fatalf("paid orders: %d %s", r.Status, r.Data)
		}
		json.Unmarshal(h.do("GET", "/admin/api/orders?user_id=other", h.app.AdminToken, "", nil).Data, &orders)
		if len(orders) != 1 || orders[0].Status != "pending" {
			t.Fatalf("other's orders: %+v", orders)
		}
		if r := h.do("GET", "/admin/api/orders?status=lost", h.app.AdminToken, "", nil); r.Status != 400 {
			t.Errorf("bad status: %d", r.Status)
		}
		var msgs []struct {
			Outcome string `json:"outcome"`
			Body    string `json:"body"`
			Detail  string `json:"detail"`
		}
		json.Unmarshal(h.do("GET", "/admin/api/inbound?out_trade_no="+otn, h.app.AdminToken, "", nil).Data, &msgs)
		if len(msgs) != 1 || msgs[0].Outcome != "applied" || !strings.Contains(msgs[0].Body, "out_trade_no="+otn) {
			t.Fatalf("messages of the attempt: %+v", msgs)
		}
		// A forged message names no verified attempt; it is found by its outcome.
		json.Unmarshal(h.do("GET", "/admin/api/inbound?outcome=rejected&channel=alipay", h.app.AdminToken, "", nil).Data, &msgs)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "sign=") || msgs[0].Detail == "" {
			t.Fatalf("rejected messages: %+v", msgs)
		}
		if r := h.do("GET", "/admin/api/inbound", h.token, "", nil); r.Status != 401 {
			t.Errorf("a user's token on the message log: %d", r.Status)
		}
		resp, err := http.Get(h.url + "/admin/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "cashier admin") || resp.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("console: %d", resp.StatusCode)
		}
	})
}
