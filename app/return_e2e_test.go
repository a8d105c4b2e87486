package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cashier/sqlstore/storetest"
)

// A browser pays on the sandbox's page, comes back through the verified return
// URL, and lands on the result page; a tampered return is refused.
func TestAlipayBrowserReturn(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, payURL := h.mustBuy("web", nil)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

		// The pay page's Pay button posts the signed order back with result=success.
		form := url.Values{"order_string": {payURL}, "result": {"success"}}
		req, _ := http.NewRequest("POST", h.url+"/sandbox/alipay/pay", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		back := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, h.url+"/api/v1/order/return/alipay?") {
			t.Fatalf("sandbox answered %d, Location %q", resp.StatusCode, back)
		}
		if o := h.order(id); o.Status != "paid" {
			t.Fatalf("order = %+v", o)
		}

		resp, err = noFollow.Get(back)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		result := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(result, "/pay/result/ALI") {
			t.Fatalf("return answered %d, Location %q", resp.StatusCode, result)
		}
		resp, err = http.Get(h.url + result)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "Payment received") {
			t.Fatalf("result page %d: %s", resp.StatusCode, page)
		}

		u, _ := url.Parse(back)
		q := u.Query()
		q.Set("out_trade_no", "ALI20260101000000"+"0000000001")
		resp, err = noFollow.Get(h.url + "/api/v1/order/return/alipay?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("tampered return answered %d", resp.StatusCode)
		}
		// A buyer who left the pay page without paying comes back with
		// nothing signed: told so, not that something failed to verify.
		if status, body := h.getText("/api/v1/order/return/alipay"); status != 200 || !strings.Contains(body, "Payment not completed") {
			t.Errorf("a return without a payment: %d %s", status, body)
		}
		q.Del("sign")
		if status, body := h.getText("/api/v1/order/return/alipay?" + q.Encode()); status != 200 || strings.Contains(body, "Could not verify") {
			t.Errorf("a return with an order number but no sign: %d %s", status, body)
		}
		resp, _ = http.Get(h.url + "/pay/result/nope")
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("unknown result page: %d", resp.StatusCode)
		}
		// The route is every channel's; one without signed returns has none.
		for path, want := range map[string]int{"/api/v1/order/return/wechat": 404, "/api/v1/order/return/paypal": 400} {
			if status, body := h.getText(path); status != want {
				t.Errorf("%s: %d %s, want %d", path, status, body, want)
			}
		}
	})
}
