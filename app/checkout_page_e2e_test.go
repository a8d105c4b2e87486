package app_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// The checkout page's link and states over HTTP: the link is the order's
// and only the order's, return URLs stay on allowed origins, and an order
// that cannot be paid offers nothing to pay.
func TestCheckoutPageStates(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("web", nil)
		for _, c := range []struct {
			returnURL string
			status    int
		}{
			{"https://evil.example/after", 400}, {"javascript:alert(1)", 400}, {"//evil.example/x", 400},
			{"http://user@" + strings.TrimPrefix(h.url, "http://") + "/", 400}, {h.url + "/thanks", 200}, {"", 200},
		} {
			if r := h.post("/api/v1/orders/"+id+"/checkout", h.token, url.Values{"return_url": {c.returnURL}}); r.Status != c.status {
				t.Errorf("return_url %q: %d %s, want %d", c.returnURL, r.Status, r.Message, c.status)
			}
		}
		if r := h.post("/api/v1/orders/"+id+"/checkout", h.tokenFor("someone-else"), nil); r.Status != 404 {
			t.Errorf("another user's order: %d", r.Status)
		}
		r := h.post("/api/v1/orders/"+id+"/checkout", h.token, nil)
		var d struct {
			CheckoutURL string `json:"checkout_url"`
		}
		json.Unmarshal(r.Data, &d)
		path := strings.TrimPrefix(d.CheckoutURL, h.url)
		if status, body := h.getText(path); status != 200 || !strings.Contains(body, `class="methods"`) {
			t.Fatalf("the page: %d", status)
		}
		// Another order's page cannot be had by editing the token.
		payload, sig, _ := strings.Cut(strings.TrimPrefix(path, "/checkout/"), ".")
		for _, bad := range []string{payload + ".x" + sig, "x" + payload + "." + sig, payload, "nothing"} {
			if status, _ := h.getText("/checkout/" + bad); status != 404 {
				t.Errorf("token %q: %d, want 404", bad, status)
			}
			if status, _ := h.getText("/checkout/" + bad + "/status"); status != 404 {
				t.Errorf("status of token %q: %d, want 404", bad, status)
			}
		}
		// Alipay on a computer: the precreated qr_code, drawn; reloading
		// the page draws the same attempt's.
		for range 2 {
			if status, body := h.getText(path + "?channel=alipay"); status != 200 || !strings.Contains(body, `id="qr"`) {
				t.Fatalf("Alipay's QR code: %d", status)
			}
		}
		o := h.order(id)
		if len(o.Payments) != 2 || o.Payments[1].Status != "pending" || o.Payments[0].Status != "closed" {
			t.Errorf("attempts after choosing Alipay twice: %+v", o.Payments)
		} else if p, err := h.app.Checkout.PaymentByOutTradeNo(context.Background(), o.Payments[1].OutTradeNo); err != nil || p.Gateway != "qr" {
			t.Errorf("the page's Alipay attempt: %+v %v", p, err)
		}
		if r := h.post("/api/v1/orders/"+id+"/cancel", h.token, nil); r.Status != 200 {
			t.Fatalf("cancel: %d", r.Status)
		}
		status, body := h.getText(path)
		if status != 200 || !strings.Contains(body, "This order is closed") || strings.Contains(body, `class="methods"`) {
			t.Errorf("a closed order's page: %d, offers to pay: %t", status, strings.Contains(body, `class="methods"`))
		}
		if status, body := h.getText(path + "?channel=wechat"); status != 200 || strings.Contains(body, `id="qr"`) {
			t.Errorf("a closed order's page drew a QR code: %d", status)
		}
		if status, body := h.getText(path + "/status"); status != 200 || !strings.Contains(body, `"state":"closed"`) {
			t.Errorf("status: %d %s", status, body)
		}
		if r := h.post("/api/v1/orders/"+id+"/checkout", h.token, nil); r.Status != 409 {
			t.Errorf("a link for a closed order: %d", r.Status)
		}
	})
}

// iPayNow in H5 mode has a link to pay with: the checkout page offers it,
// drawn as a QR code on a computer; in APP mode (the SDK's parameters) it
// is not offered.
func TestCheckoutPageIPayNowH5(t *testing.T) {
	h := newHarnessWith(t, "", func(cfg *app.Config) {
		cfg.Channels = map[string]json.RawMessage{"helloNow": json.RawMessage(`{"sandbox": true, "h5": ["alipay"]}`)}
	}, app.Options{})
	id, _ := h.mustBuy("web", nil)
	r := h.post("/api/v1/orders/"+id+"/checkout", h.token, nil)
	var d struct {
		CheckoutURL string `json:"checkout_url"`
	}
	json.Unmarshal(r.Data, &d)
	path := strings.TrimPrefix(d.CheckoutURL, h.url)
	if _, body := h.getText(path); !strings.Contains(body, "channel=helloNow") {
		t.Fatalf("iPayNow in H5 mode is not offered")
	}
	if status, body := h.getText(path + "?channel=helloNow"); status != 200 || !strings.Contains(body, `id="qr"`) {
		t.Errorf("iPayNow's H5 link is not drawn: %d", status)
	}
	plain := newHarness(t, "")
	pid, _ := plain.mustBuy("web", nil)
	r = plain.post("/api/v1/orders/"+pid+"/checkout", plain.token, nil)
	json.Unmarshal(r.Data, &d)
	if _, body := plain.getText(strings.TrimPrefix(d.CheckoutURL, plain.url)); strings.Contains(body, "channel=helloNow") {
		t.Errorf("iPayNow in APP mode is offered on the checkout page")
	}
}
