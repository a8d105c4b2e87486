package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/app"
	"cashier/sandbox"
	"cashier/sqlstore/storetest"
)

// eachVersion runs fn for WeChat Pay API v2 and v3, each on both databases.
func eachVersion(t *testing.T, fn func(t *testing.T, dsn string, v int)) {
	for _, v := range []int{2, 3} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			storetest.Dialects(t, func(t *testing.T, dsn string) { fn(t, dsn, v) })
		})
	}
}

// What each gateway hands the client is in the seed's shape, for both API
// versions. (Paying through every gateway is the conformance suite's,
// channel/channeltest.)
func TestWeChatCredentials(t *testing.T) {
	eachVersion(t, func(t *testing.T, dsn string, v int) {
		h := wechatVersionHarness(t, dsn, v, app.Options{})
		for _, gw := range []string{"app", "scan", "wap"} {
			t.Run(gw, func(t *testing.T) {
				r := h.buyWechat(gw)
				if r.Status != 200 || r.Code != 0 || r.OrderID == "" {
					t.Fatalf("buy: %d %+v", r.Status, r)
				}
				switch gw {
				case "app":
					var app map[string]any
					if err := json.Unmarshal(r.Data, &app); err != nil {
						t.Fatalf("app data %s: %v", r.Data, err)
					}
					for _, k := range []string{"appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign"} {
						if s, _ := app[k].(string); s == "" {
							t.Errorf("app data lacks %s: %s", k, r.Data)
						}
					}
					if len(app) != 7 || app["package"] != "Sign=WXPay" || app["partnerid"] != "1900000001" {
						t.Errorf("app data = %s", r.Data)
					}
				case "scan":
					var scan map[string]any
					json.Unmarshal(r.Data, &scan)
					if code, _ := scan["code_url"].(string); !strings.HasPrefix(code, "weixin://wxpay/bizpayurl?pr=") {
						t.Errorf("scan data = %s", r.Data)
					}
				case "wap":
					var u string
					if err := json.Unmarshal(r.Data, &u); err != nil || !strings.HasPrefix(u, "http") {
						t.Errorf("wap data = %s", r.Data)
					}
					resp, err := http.Get(u)
					if err != nil || resp.StatusCode != 200 {
						t.Errorf("H5 page: %v %v", resp, err)
					} else {
						resp.Body.Close()
					}
				}
				o := h.order(r.OrderID)
				// v3 answers a prepay_id for APP only (native and h5 carry none).
				if (v == 2 || gw == "app") && o.Payments[0].ChannelTradeNo == "" {
					t.Errorf("no prepay id recorded: %+v", o.Payments[0])
				}
			})
		}
	})
}

const wechatAck = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"

// Forged, tampered, misdirected and stale notifications: rejected and recorded.
func TestWeChatRejectsBadNotifications(t *testing.T) {
	t.Run("v2", func(t *testing.T) {
		storetest.Dialects(t, func(t *testing.T, dsn string) {
			h := wechatVersionHarness(t, dsn, 2, app.Options{})
			r := h.buyWechat("app")
			otn := h.lastOutTradeNo(r.OrderID)
			key := h.sandboxSecret("wechat_api_key.txt")
			cases := []struct {
				name, body string
				acked      bool
			}{
				{"forged signature", wechatV2Notification("0123456789abcdef0123456789abcdef", otn, 600, nil), false},
				{"tampered total_fee", strings.Replace(wechatV2Notification(key, otn, 1, nil), "<total_fee><![CDATA[1]]>", "<total_fee><![CDATA[600]]>", 1), false},
				{"no signature", wechatV2Notification(key, otn, 600, map[string]string{"sign": ""}), false},
				{"not XML", "{}", false},
				{"wrong amount", wechatV2Notification(key, otn, 1, nil), true},
				{"wrong mch_id", wechatV2Notification(key, otn, 600, map[string]string{"mch_id": "1900000999"}), true},
				{"wrong appid", wechatV2Notification(key, otn, 600, map[string]string{"appid": "wx0000000000other"}), true},
			}
			for i, c := range cases {
				status, text := h.notifyWechat(c.body, nil)
				if acked := status == 200 && text == wechatAck; acked != c.acked {
					t.Errorf("%s: reply %d %q, acknowledged %v, want %v", c.name, status, text, acked, c.acked)
				}
				if out := h.inboundOutcomes(); len(out) != i+1 || out[i] != "rejected" {
					t.Errorf("%s: outcomes %v", c.name, out)
				}
			}
			if o := h.order(r.OrderID); o.Status != "pending" {
				t.Errorf("order changed: %+v", o)
			}
		})
	})
	t.Run("v3", func(t *testing.T) {
		storetest.Dialects(t, func(t *testing.T, dsn string) {
			h := wechatVersionHarness(t, dsn, 3, app.Options{})
			r := h.buyWechat("app")
			otn := h.lastOutTradeNo(r.OrderID)
			key, serial, v3key := h.wechatPlatformKey(), h.wechatSim().PlatformSerial, h.sandboxSecret("wechat_apiv3_key.txt")
			now := h.clock.Now()
			good := func(tx map[string]any) (string, http.Header) {
				return wechatV3Notification(t, key, serial, v3key, now, tx)
			}

			forgedBody, forgedHdr := wechatV3Notification(t, h.otherKey(), serial, v3key, now, wechatV3Transaction(otn, 600, nil))
			staleBody, staleHdr := wechatV3Notification(t, key, serial, v3key, now.Add(-6*time.Minute), wechatV3Transaction(otn, 600, nil))
			unknownBody, unknownHdr := wechatV3Notification(t, key, "PUB_KEY_ID_unknown", v3key, now, wechatV3Transaction(otn, 600, nil))
			tamperedBody, tamperedHdr := good(wechatV3Transaction(otn, 600, nil))
			tamperedBody = strings.Replace(tamperedBody, "支付成功", "支付失败", 1)
			wrongKeyBody, wrongKeyHdr := wechatV3Notification(t, key, serial, strings.Repeat("k", 32), now, wechatV3Transaction(otn, 600, nil))
			amountBody, amountHdr := good(wechatV3Transaction(otn, 1, nil))
			mchBody, mchHdr := good(wechatV3Transaction(otn, 600, map[string]any{"mchid": "1900000999"}))
			cases := []struct {
				name  string
				body  string
				hdr   http.Header
				acked bool
			}{
				{"forged signature", forgedBody, forgedHdr, false},
				{"timestamp 6 minutes old", staleBody, staleHdr, false},
				{"unknown serial", unknownBody, unknownHdr, false},
				{"body changed after signing", tamperedBody, tamperedHdr, false},
				{"resource not encrypted with our key", wrongKeyBody, wrongKeyHdr, false},
				{"wrong amount", amountBody, amountHdr, true},
				{"wrong mchid", mchBody, mchHdr, true},
			}
			for i, c := range cases {
				status, text := h.notifyWechat(c.body, c.hdr)
				if acked := status == 204 || status == 200; acked != c.acked {
					t.Errorf("%s: reply %d %q, acknowledged %v, want %v", c.name, status, text, acked, c.acked)
				}
				if out := h.inboundOutcomes(); len(out) != i+1 || out[i] != "rejected" {
					t.Errorf("%s: outcomes %v", c.name, out)
				}
			}
			if o := h.order(r.OrderID); o.Status != "pending" {
				t.Errorf("order changed: %+v", o)
			}
		})
	})
}

// WeChat Pay failing or refusing: a clear 502, nothing half-created, and the
// order payable again once it recovers.
func TestWeChatUpstreamFaults(t *testing.T) {
	eachVersion(t, func(t *testing.T, dsn string, v int) {
		h := wechatVersionHarness(t, dsn, v, app.Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
		sim := h.wechatSim()
		// An order first paid with Alipay, then re-paid with WeChat.
		id, _ := h.mustBuy("app", nil)
		faults := []struct {
			name  string
			fault sandbox.Fault
			says  string
		}{
			{"slow", sandbox.Fault{Delay: 5 * time.Second}, "WeChat"},
			{"5xx", sandbox.Fault{HTTPStatus: 500}, "WeChat"},
			{"return_code FAIL", sandbox.Fault{ReturnCode: "FAIL", ReturnMsg: "system busy"}, "busy"},
			{"ORDERPAID", sandbox.Fault{ErrCode: "ORDERPAID", ErrCodeDes: "order paid"}, "ORDERPAID"},
			{"OUT_TRADE_NO_USED", sandbox.Fault{ErrCode: "OUT_TRADE_NO_USED", ErrCodeDes: "out_trade_no used"}, "OUT_TRADE_NO_USED"},
		}
		for _, f := range faults {
			if v == 3 && f.fault.ReturnCode != "" {
				continue // v3 has no return_code
			}
			sim.Faults().Inject(sandbox.OpPrepare, 0, f.fault)
			orders, payments := h.count("orders"), h.count("payments")
			if r := h.buyWechat("app"); r.Status != 502 || r.Code != 502 || !strings.Contains(r.Message, f.says) {
				t.Errorf("%s: new order answered %d %q", f.name, r.Status, r.Message)
			}
			r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"wechat"}, "gateway": {"scan"}})
			if r.Status != 502 || !strings.Contains(r.Message, f.says) {
				t.Errorf("%s: re-pay answered %d %q", f.name, r.Status, r.Message)
			}
			if h.count("orders") != orders || h.count("payments") != payments {
				t.Errorf("%s: a failed request wrote rows", f.name)
			}
			if o := h.order(id); o.Status != "pending" || o.Payments[len(o.Payments)-1].Status != "pending" {
				t.Errorf("%s: order after the fault: %+v", f.name, o)
			}
			sim.Faults().Clear()
		}
		r := h.post("/api/v1/orders/"+id+"/pay", h.token, url.Values{"channel": {"wechat"}, "gateway": {"app"}})
		if r.Status != 200 {
			t.Fatalf("re-pay after recovery: %d %s", r.Status, r.Message)
		}
		h.wechatPay(h.lastOutTradeNo(id), "")
		if o := h.order(id); o.Status != "paid" {
			t.Fatalf("order = %+v", o)
		}
	})
}

// An unreachable WeChat Pay (nothing listens) is a 502 too.
func TestWeChatUnreachable(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	h := newHarnessWith(t, dsn, func(c *app.Config) {
		setSection(c, "wechat", fmt.Sprintf(`{"app_id": "wx1", "mch_id": "1900000001", "api_version": 2, "api_key_file": %q,
			"base_url": "http://127.0.0.1:1"}`, writeTemp(t, "wechat_api_key.txt", strings.Repeat("a", 32))))
	}, app.Options{})
	h.app.Store.Update(t.Context(), func(tx cashier.Tx) error {
		return tx.InsertPackage(t.Context(), &cashier.Package{Name: "p", Price: 600, Active: true})
	})
	if r := h.buyWechat("app"); r.Status != 502 || !strings.Contains(r.Message, "WeChat") {
		t.Fatalf("unreachable: %d %q", r.Status, r.Message)
	}
	if h.count("orders") != 0 {
		t.Fatal("an order was written")
	}
}

// Re-paying or cancelling closes the open WeChat attempt at WeChat Pay.
func TestWeChatClosesSupersededAttempts(t *testing.T) {
	eachVersion(t, func(t *testing.T, dsn string, v int) {
		h := wechatVersionHarness(t, dsn, v, app.Options{})
		r := h.buyWechat("app")
		first := h.lastOutTradeNo(r.OrderID)
		h.post("/api/v1/orders/"+r.OrderID+"/pay", h.token, url.Values{"channel": {"wechat"}, "gateway": {"scan"}})
		second := h.lastOutTradeNo(r.OrderID)
		if status, out := h.wechatPay(first, ""); status == 200 && out["status"] == "SUCCESS" {
			t.Errorf("the superseded attempt could still be paid: %v", out)
		}
		h.post("/api/v1/orders/"+r.OrderID+"/cancel", h.token, nil)
		if status, out := h.wechatPay(second, ""); status == 200 && out["status"] == "SUCCESS" {
			t.Errorf("the cancelled order's attempt could still be paid: %v", out)
		}
		if o := h.order(r.OrderID); o.Status != "closed" {
			t.Errorf("order = %+v", o)
		}
	})
}
