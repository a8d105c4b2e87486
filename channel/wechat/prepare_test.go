package wechat

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cashier"
)

// appFields checks that an app credential marshals to exactly the seven
// fields of the WeChat SDK's PayReq, all strings, and returns them.
func appFields(t *testing.T, cred *cashier.Credential) map[string]string {
	t.Helper()
	raw, err := json.Marshal(cred.Value)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	want := []string{"appid", "noncestr", "package", "partnerid", "prepayid", "sign", "timestamp"}
	if got := slices.Sorted(maps.Keys(obj)); !slices.Equal(got, want) {
		t.Fatalf("app credential fields %v, want %v", got, want)
	}
	out := map[string]string{}
	for k, v := range obj {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("app credential %s is a %T, want a string", k, v)
		}
		out[k] = s
	}
	return out
}

func TestPrepareV2(t *testing.T) {
	for _, signType := range []string{SignTypeMD5, SignTypeHMACSHA256} {
		w := newWorld(t, 2, signType)
		for i, tc := range []struct{ gateway, tradeType string }{
			{"app", "APP"}, {"scan", "NATIVE"}, {"wap", "MWEB"},
		} {
			t.Run(signType+"/"+tc.gateway, func(t *testing.T) {
				req := w.request(tc.gateway, fmt.Sprintf("W2%s%d", strings.ReplaceAll(signType, "-", ""), i))
				cred, err := w.ch.Prepare(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(cred.ChannelTradeNo, "wx") {
					t.Errorf("ChannelTradeNo %q is not a prepay_id", cred.ChannelTradeNo)
				}

				// What the channel sent.
				c := w.lastCall()
				if c.path != "/sandbox/wechat/pay/unifiedorder" {
					t.Fatalf("called %s", c.path)
				}
				sent := testParseXML(t, c.body)
				want := map[string]string{
					"appid":            testAppID,
					"mch_id":           testMchID,
					"sign_type":        signType,
					"body":             req.Subject,
					"out_trade_no":     req.OutTradeNo,
					"total_fee":        "1234",
					"spbill_create_ip": req.ClientIP,
					"notify_url":       req.NotifyURL,
					"trade_type":       tc.tradeType,
					"time_expire":      req.ExpiresAt.In(beijingForTest(t)).Format("20060102150405"),
				}
				if tc.tradeType == "MWEB" {
					want["scene_info"] = `{"h5_info":{"type":"Wap"}}`
				}
				for k, v := range want {
					if sent[k] != v {
						t.Errorf("sent %s = %q, want %q", k, sent[k], v)
					}
				}
				if sent["nonce_str"] == "" {
					t.Error("sent no nonce_str")
				}
				if sent["sign"] != testSignV2(sent, testAPIKey, signType) {
					t.Error("request sign does not verify")
				}

				switch tc.gateway {
				case "app":
					p := appFields(t, cred)
					if p["appid"] != testAppID || p["partnerid"] != testMchID || p["prepayid"] != cred.ChannelTradeNo || p["package"] != "Sign=WXPay" {
						t.Errorf("app credential %v", p)
					}
					if p["timestamp"] != strconv.FormatInt(req.Now.Unix(), 10) {
						t.Errorf("timestamp %q, want req.Now %d", p["timestamp"], req.Now.Unix())
					}
					if p["noncestr"] == "" {
						t.Error("no noncestr")
					}
					if p["sign"] != testSignV2(p, testAPIKey, signType) {
						t.Errorf("app sign %s does not verify", p["sign"])
					}
				case "scan":
					o, ok := cred.Value.(NativeOrder)
					if !ok {
						t.Fatalf("scan credential is a %T", cred.Value)
					}
					if !strings.HasPrefix(o.CodeURL, "weixin://wxpay/bizpayurl?pr=") {
						t.Errorf("code_url %q", o.CodeURL)
					}
					if o.ReturnCode != "SUCCESS" || o.ResultCode != "SUCCESS" || o.AppID != testAppID || o.MchID != testMchID ||
						o.PrepayID != cred.ChannelTradeNo || o.TradeType != "NATIVE" || o.NonceStr == "" || o.Sign == "" {
						t.Errorf("scan credential %+v", o)
					}
					raw, _ := json.Marshal(o)
					var obj map[string]any
					json.Unmarshal(raw, &obj)
					wantKeys := []string{"appid", "code_url", "mch_id", "nonce_str", "prepay_id", "result_code", "return_code", "return_msg", "sign", "trade_type"}
					if got := slices.Sorted(maps.Keys(obj)); !slices.Equal(got, wantKeys) {
						t.Errorf("scan fields %v, want %v", got, wantKeys)
					}
				case "wap":
					s, ok := cred.Value.(string)
					if !ok || s != w.srv.URL+"/sandbox/wechat/h5/"+cred.ChannelTradeNo {
						t.Errorf("wap credential %#v", cred.Value)
					}
				}
			})
		}
	}
}

func TestPrepareV3(t *testing.T) {
	w := newWorld(t, 3, "")
	for i, gateway := range []string{"app", "scan", "wap"} {
		t.Run(gateway, func(t *testing.T) {
			req := w.request(gateway, fmt.Sprintf("W3P%d", i))
			cred, err := w.ch.Prepare(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			kind := map[string]string{"app": "app", "scan": "native", "wap": "h5"}[gateway]
			c := w.lastCall()
			if c.path != "/sandbox/wechat/v3/pay/transactions/"+kind {
				t.Fatalf("called %s", c.path)
			}
			// The Authorization header, checked independently.
			auth := c.header.Get("Authorization")
			scheme, rest, _ := strings.Cut(auth, " ")
			if scheme != "WECHATPAY2-SHA256-RSA2048" {
				t.Fatalf("Authorization %q", auth)
			}
			params := map[string]string{}
			for _, part := range strings.Split(rest, ",") {
				k, v, _ := strings.Cut(part, "=")
				params[k] = strings.Trim(v, `"`)
			}
			if params["mchid"] != testMchID || params["serial_no"] != testMerchantSerial {
				t.Errorf("Authorization params %v", params)
			}
			msg := "POST\n/v3/pay/transactions/" + kind + "\n" + params["timestamp"] + "\n" + params["nonce_str"] + "\n" + string(c.body) + "\n"
			if err := testRSAVerify(&merchantKey().PublicKey, msg, params["signature"]); err != nil {
				t.Errorf("request signature: %v", err)
			}
			var sent struct {
				AppID       string `json:"appid"`
				MchID       string `json:"mchid"`
				Description string `json:"description"`
				OutTradeNo  string `json:"out_trade_no"`
				TimeExpire  string `json:"time_expire"`
				NotifyURL   string `json:"notify_url"`
				Amount      struct {
					Total    int64  `json:"total"`
					Currency string `json:"currency"`
				} `json:"amount"`
				SceneInfo *struct {
					PayerClientIP string `json:"payer_client_ip"`
					H5Info        struct {
						Type string `json:"type"`
					} `json:"h5_info"`
				} `json:"scene_info"`
			}
			if err := json.Unmarshal(c.body, &sent); err != nil {
				t.Fatal(err)
			}
			if sent.AppID != testAppID || sent.MchID != testMchID || sent.Description != req.Subject || sent.OutTradeNo != req.OutTradeNo ||
				sent.NotifyURL != req.NotifyURL || sent.Amount.Total != 1234 || sent.Amount.Currency != "CNY" {
				t.Errorf("sent %+v", sent)
			}
			if want := req.ExpiresAt.In(beijingForTest(t)).Format(time.RFC3339); sent.TimeExpire != want || !strings.HasSuffix(want, "+08:00") {
				t.Errorf("time_expire %q, want %q", sent.TimeExpire, want)
			}
			if gateway == "wap" {
				if sent.SceneInfo == nil || sent.SceneInfo.PayerClientIP != req.ClientIP || sent.SceneInfo.H5Info.Type != "Wap" {
					t.Errorf("scene_info %+v", sent.SceneInfo)
				}
			} else if sent.SceneInfo != nil {
				t.Errorf("%s sent scene_info", gateway)
			}

			switch gateway {
			case "app":
				p := appFields(t, cred)
				if p["appid"] != testAppID || p["partnerid"] != testMchID || p["prepayid"] != cred.ChannelTradeNo || p["package"] != "Sign=WXPay" ||
					p["timestamp"] != strconv.FormatInt(req.Now.Unix(), 10) || !strings.HasPrefix(p["prepayid"], "wx") {
					t.Errorf("app credential %v", p)
				}
				msg := p["appid"] + "\n" + p["timestamp"] + "\n" + p["noncestr"] + "\n" + p["prepayid"] + "\n"
				if err := testRSAVerify(&merchantKey().PublicKey, msg, p["sign"]); err != nil {
					t.Errorf("app re-sign does not verify: %v", err)
				}
			case "scan":
				raw, _ := json.Marshal(cred.Value)
				var obj map[string]string
				if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 || !strings.HasPrefix(obj["code_url"], "weixin://wxpay/bizpayurl?pr=") {
					t.Errorf("scan credential %s", raw)
				}
			case "wap":
				s, ok := cred.Value.(string)
				if !ok || !strings.HasPrefix(s, w.srv.URL+"/sandbox/wechat/h5/wx") {
					t.Errorf("wap credential %#v", cred.Value)
				}
			}
		})
	}
}

func TestPrepareRefusesBadRequests(t *testing.T) {
	w := newTestWeChat(t, testConfig(2, "http://127.0.0.1:1/sandbox/wechat"))
	ctx := t.Context()

	req := prepareRequest("web", "W2BAD1")
	_, err := w.Prepare(ctx, req)
	wantCode(t, err, cashier.EINVALID)
	if !strings.Contains(cashier.ErrorMessage(err), "withdrawn") {
		t.Errorf("message %q does not say web is withdrawn", cashier.ErrorMessage(err))
	}
	_, err = w.Prepare(ctx, prepareRequest("jsapi", "W2BAD1"))
	wantCode(t, err, cashier.EINVALID)

	for _, otn := range []string{"", strings.Repeat("1", 33), "W2/../x", "W2 1"} {
		_, err = w.Prepare(ctx, prepareRequest("app", otn))
		wantCode(t, err, cashier.EINVALID)
	}
	req = prepareRequest("app", "W2BAD2")
	req.Amount = 0
	_, err = w.Prepare(ctx, req)
	wantCode(t, err, cashier.EINVALID)

	req = prepareRequest("app", "W2BAD3")
	req.Subject = " "
	_, err = w.Prepare(ctx, req)
	wantCode(t, err, cashier.EINVALID)

	req = prepareRequest("app", "W2BAD4")
	req.ExpiresAt = req.Now
	_, err = w.Prepare(ctx, req)
	wantCode(t, err, cashier.EUNPROCESSABLE)
}

func TestPrepareDefaultsAndLimits(t *testing.T) {
	w := newWorld(t, 2, "")
	req := w.request("scan", "W2DEF1")
	req.ClientIP = ""
	req.Subject = strings.Repeat("礼", 50) // 150 bytes
	req.ExpiresAt = time.Time{}
	if _, err := w.ch.Prepare(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	sent := testParseXML(t, w.lastCall().body)
	if sent["spbill_create_ip"] != "127.0.0.1" {
		t.Errorf("spbill_create_ip %q", sent["spbill_create_ip"])
	}
	if sent["body"] != strings.Repeat("礼", 42) {
		t.Errorf("body %q (%d bytes), want 42 runes", sent["body"], len(sent["body"]))
	}
	if _, ok := sent["time_expire"]; ok {
		t.Error("time_expire sent without ExpiresAt")
	}
	if sent["sign_type"] != "MD5" {
		t.Errorf("default sign_type %q", sent["sign_type"])
	}
}

func TestTruncateBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"礼包", 4, "礼"},
		{"礼包", 5, "礼"},
		{"礼包", 6, "礼包"},
		{"a礼", 2, "a"},
	} {
		if got := truncateBytes(tc.in, tc.n); got != tc.want {
			t.Errorf("truncateBytes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"no app id":        func(c *Config) { c.AppID = "" },
		"version 4":        func(c *Config) { c.APIVersion = 4 },
		"short API key":    func(c *Config) { c.APIKey = "short" },
		"sign type":        func(c *Config) { c.SignType = "SHA1" },
		"relative base":    func(c *Config) { c.BaseURL = "/sandbox/wechat" },
		"base with query":  func(c *Config) { c.BaseURL = "https://api.mch.weixin.qq.com/?x=1" },
		"ftp base":         func(c *Config) { c.BaseURL = "ftp://api.mch.weixin.qq.com" },
		"base with secret": func(c *Config) { c.BaseURL = "https://u:p@api.mch.weixin.qq.com" },
	} {
		cfg := testConfig(2, "")
		change(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), testAPIKey) {
			t.Errorf("%s: error quotes the API key", name)
		}
	}
	for name, change := range map[string]func(*Config){
		"short APIv3 key":  func(c *Config) { c.APIv3Key = "short" },
		"no private key":   func(c *Config) { c.PrivateKey = nil },
		"no serial":        func(c *Config) { c.SerialNo = "" },
		"no platform keys": func(c *Config) { c.PlatformKeys = nil },
		"nil platform key": func(c *Config) { c.PlatformKeys = map[string]*rsa.PublicKey{"x": nil} },
	} {
		cfg := testConfig(3, "")
		change(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("v3 %s: accepted", name)
		}
	}
	w := newTestWeChat(t, testConfig(2, ""))
	if w.baseURL != DefaultBaseURL || w.signType != SignTypeMD5 || w.APIVersion() != 2 {
		t.Errorf("defaults: base %q, sign type %q, version %d", w.baseURL, w.signType, w.APIVersion())
	}
	if w.Name() != "wechat" || !slices.Equal(w.Gateways(), []string{"app", "scan", "wap"}) {
		t.Errorf("name %q, gateways %v", w.Name(), w.Gateways())
	}
}

func beijingForTest(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
