package wechat

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"

	"cashier"
	"cashier/channel/wechat"
	"cashier/sandbox"
	"cashier/sandbox/sandboxtest"
)

const (
	wxTestAppID          = "wx7977941a06563864"
	wxTestMchID          = "1486187932"
	wxTestAPIKey         = "5c4c0b1ad6c8e5bbd6b1f2e3d4c5b6a7"
	wxTestAPIv3Key       = "Zq3t6w9z$C&F)J@NcRfUjXn2r5u8x/A?"
	wxTestMerchantSerial = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
	wxTestPlatformSerial = "PUB_KEY_ID_0114861879322026010200000000000001"
)

func wxGenKey() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
}

var (
	wxMerchantKey = sync.OnceValue(wxGenKey)
	wxPlatformKey = sync.OnceValue(wxGenKey)
	wxOtherKey    = sync.OnceValue(wxGenKey)
)

// wechatWorld is cashier's side (the channel and its notify endpoint) and
// the simulator, on one loopback server.
type wechatWorld struct {
	t   *testing.T
	sim *WeChat
	srv *httptest.Server
	ch  *wechat.WeChat

	sandboxtest.NotifyEndpoint
}

func newWechatWorld(t *testing.T, version int, signType string) *wechatWorld {
	t.Helper()
	w := &wechatWorld{t: t, NotifyEndpoint: sandboxtest.NotifyEndpoint{T: t}}
	w.sim = &WeChat{
		AppID:          wxTestAppID,
		MchID:          wxTestMchID,
		APIKey:         wxTestAPIKey,
		SignType:       signType,
		APIv3Key:       wxTestAPIv3Key,
		MerchantKey:    &wxMerchantKey().PublicKey,
		PlatformKey:    wxPlatformKey(),
		PlatformSerial: wxTestPlatformSerial,
	}
	mux := http.NewServeMux()
	w.sim.Register(mux)
	mux.Handle("POST /notify/wechat", &w.NotifyEndpoint)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	w.sim.HTTPClient = w.srv.Client()

	cfg := wechat.Config{
		AppID:      wxTestAppID,
		MchID:      wxTestMchID,
		APIVersion: version,
		BaseURL:    w.srv.URL + "/sandbox/wechat",
		HTTPClient: w.srv.Client(),
	}
	if version == 3 {
		cfg.APIv3Key = wxTestAPIv3Key
		cfg.PrivateKey = wxMerchantKey()
		cfg.SerialNo = wxTestMerchantSerial
		cfg.PlatformKeys = map[string]*rsa.PublicKey{wxTestPlatformSerial: &wxPlatformKey().PublicKey}
	} else {
		cfg.APIKey = wxTestAPIKey
		cfg.SignType = signType
	}
	ch, err := wechat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.ch, w.Verifier = ch, ch
	return w
}

func (w *wechatWorld) request(gateway, outTradeNo string, amount int64) cashier.PrepareRequest {
	now := time.Now()
	return cashier.PrepareRequest{
		Gateway:    gateway,
		OutTradeNo: outTradeNo,
		Amount:     amount,
		Subject:    "Gold <x100> & gems",
		Now:        now,
		ExpiresAt:  now.Add(15 * time.Minute),
		ClientIP:   "198.51.100.4",
		NotifyURL:  w.srv.URL + "/notify/wechat",
	}
}

func (w *wechatWorld) prepare(gateway, outTradeNo string, amount int64) *cashier.Credential {
	w.t.Helper()
	cred, err := w.ch.Prepare(w.t.Context(), w.request(gateway, outTradeNo, amount))
	if err != nil {
		w.t.Fatalf("prepare %s %s: %v", gateway, outTradeNo, err)
	}
	return cred
}

// pay posts the pay form; html asks for the browser's answer.
func (w *wechatWorld) pay(form url.Values, html bool) (int, string) {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.t.Context(), http.MethodPost, w.srv.URL+"/sandbox/wechat/pay", strings.NewReader(form.Encode()))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if html {
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (w *wechatWorld) payJSON(form url.Values) (int, sandbox.PayAnswer) {
	w.t.Helper()
	status, body := w.pay(form, false)
	var ans sandbox.PayAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		w.t.Fatalf("pay answer %q: %v", body, err)
	}
	return status, ans
}

func (w *wechatWorld) get(u string) (int, string) {
	w.t.Helper()
	resp, err := w.srv.Client().Get(u)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// payPageOf is the pay page of a scan or wap credential.
func (w *wechatWorld) payPageOf(cred *cashier.Credential) string {
	w.t.Helper()
	var codeURL string
	switch v := cred.Value.(type) {
	case string:
		return v
	case wechat.NativeOrder:
		codeURL = v.CodeURL
	case wechat.NativeCode:
		codeURL = v.CodeURL
	default:
		w.t.Fatalf("credential %T has no pay page", cred.Value)
	}
	token, ok := strings.CutPrefix(codeURL, "weixin://wxpay/bizpayurl?pr=")
	if !ok {
		w.t.Fatalf("code_url %q", codeURL)
	}
	return w.srv.URL + "/sandbox/wechat/qr/" + token
}

func TestWeChatHappyPaths(t *testing.T) {
	for _, tc := range []struct {
		version  int
		signType string
	}{{2, ""}, {2, "HMAC-SHA256"}, {3, ""}} {
		t.Run(fmt.Sprintf("v%d%s", tc.version, tc.signType), func(t *testing.T) {
			w := newWechatWorld(t, tc.version, tc.signType)
			ctx := t.Context()
			prefix := fmt.Sprintf("S%d%d", tc.version, len(tc.signType))

			// app: paid from the API, as the WeChat app would.
			app := w.prepare("app", prefix+"APP", 600)
			status, ans := w.payJSON(url.Values{"out_trade_no": {prefix + "APP"}})
			if status != http.StatusOK || ans.Status != "SUCCESS" || ans.ChannelTradeNo == "" || ans.Error != "" {
				t.Fatalf("pay: %d %+v", status, ans)
			}
			wantNotify := http.StatusOK
			if tc.version == 3 {
				wantNotify = http.StatusNoContent
			}
			if ans.NotifyStatus != wantNotify {
				t.Errorf("cashier answered %d %q", ans.NotifyStatus, ans.NotifyReply)
			}
			if tc.version == 2 && !strings.Contains(ans.NotifyReply, "<return_code><![CDATA[SUCCESS]]></return_code>") {
				t.Errorf("notify reply %q", ans.NotifyReply)
			}
			n, err := w.LastNote()
			if err != nil {
				t.Fatalf("notification rejected: %v", err)
			}
			if n.Status != cashier.NotifyPaid || n.OutTradeNo != prefix+"APP" || n.Amount != 600 || n.ChannelTradeNo != ans.ChannelTradeNo || n.PaidAt.IsZero() {
				t.Errorf("notification %+v", n)
			}
			q, err := w.ch.Query(ctx, cashier.Trade{OutTradeNo: prefix + "APP"})
			if err != nil || q.Status != cashier.NotifyPaid || q.ChannelTradeNo != ans.ChannelTradeNo || q.Amount != 600 {
				t.Errorf("query %+v, %v", q, err)
			}
			sandboxtest.WantErrCode(t, w.ch.Close(ctx, cashier.Trade{OutTradeNo: prefix + "APP"}), cashier.ECONFLICT)
			_, err = w.ch.Prepare(ctx, w.request("app", prefix+"APP", 600))
			sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)
			if !strings.Contains(cashier.ErrorMessage(err), "ORDERPAID") {
				t.Errorf("repeat of a paid order: %v", err)
			}
			if status, _ := w.payJSON(url.Values{"out_trade_no": {prefix + "APP"}}); status != http.StatusConflict {
				t.Errorf("paying twice: %d", status)
			}
			if p, ok := app.Value.(wechat.AppParams); !ok || p.PrepayID == "" {
				t.Errorf("app credential %#v", app.Value)
			}

			// scan: the code_url's pay page, paid from a browser.
			scan := w.prepare("scan", prefix+"SCAN", 1234)
			page := w.payPageOf(scan)
			status, body := w.get(page)
			if status != http.StatusOK || !strings.Contains(body, "¥12.34") || !strings.Contains(body, prefix+"SCAN") ||
				!strings.Contains(body, "Gold &lt;x100&gt; &amp; gems") || !strings.Contains(body, `action="/sandbox/wechat/pay"`) {
				t.Fatalf("pay page %s: %d\n%s", page, status, body)
			}
			status, body = w.pay(url.Values{"out_trade_no": {prefix + "SCAN"}, "result": {"success"}}, true)
			if status != http.StatusOK || !strings.Contains(body, "Payment succeeded") {
				t.Errorf("browser pay: %d\n%s", status, body)
			}
			if n, err := w.LastNote(); err != nil || n.OutTradeNo != prefix+"SCAN" || n.Status != cashier.NotifyPaid {
				t.Errorf("scan notification %+v, %v", n, err)
			}
			if status, _ := w.get(page); status != http.StatusConflict {
				t.Errorf("pay page of a paid trade: %d", status)
			}

			// wap: the H5 page, cancelled.
			wap := w.prepare("wap", prefix+"WAP", 99)
			status, body = w.get(w.payPageOf(wap))
			if status != http.StatusOK || !strings.Contains(body, "¥0.99") {
				t.Fatalf("h5 page: %d\n%s", status, body)
			}
			before := w.NoteCount()
			status, ans = w.payJSON(url.Values{"out_trade_no": {prefix + "WAP"}, "result": {"fail"}})
			if status != http.StatusOK {
				t.Fatalf("fail: %d %+v", status, ans)
			}
			q, err = w.ch.Query(ctx, cashier.Trade{OutTradeNo: prefix + "WAP"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.version == 2 {
				// v2 notifies the failure.
				n, err := w.LastNote()
				if ans.Status != "PAYERROR" || w.NoteCount() != before+1 || err != nil || n.Status != cashier.NotifyFailed || n.Amount != 99 {
					t.Errorf("v2 failure: %+v; notification %+v, %v", ans, n, err)
				}
				if q.Status != cashier.NotifyFailed {
					t.Errorf("query after failure %+v", q)
				}
			} else {
				// v3 closes it, silently.
				if ans.Status != "CLOSED" || ans.NotifyStatus != 0 || ans.Note == "" || w.NoteCount() != before {
					t.Errorf("v3 failure: %+v, %d notifications (had %d)", ans, w.NoteCount(), before)
				}
				if q.Status != cashier.NotifyClosed {
					t.Errorf("query after failure %+v", q)
				}
			}

			// Closing an unpaid trade, twice; it can no longer be paid.
			w.prepare("app", prefix+"CLOSE", 100)
			for range 2 {
				if err := w.ch.Close(ctx, cashier.Trade{OutTradeNo: prefix + "CLOSE"}); err != nil {
					t.Errorf("close: %v", err)
				}
			}
			if status, _ := w.payJSON(url.Values{"out_trade_no": {prefix + "CLOSE"}}); status != http.StatusConflict {
				t.Errorf("paying a closed trade: %d", status)
			}
			_, err = w.ch.Prepare(ctx, w.request("app", prefix+"CLOSE", 100))
			sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)

			// Unknown trades.
			_, err = w.ch.Query(ctx, cashier.Trade{OutTradeNo: prefix + "NONE"})
			sandboxtest.WantErrCode(t, err, cashier.ENOTFOUND)
			if err := w.ch.Close(ctx, cashier.Trade{OutTradeNo: prefix + "NONE"}); err != nil {
				t.Errorf("close unknown: %v", err)
			}
		})
	}
}

func TestWeChatRepeatedOrder(t *testing.T) {
	for _, version := range []int{2, 3} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			w := newWechatWorld(t, version, "")
			otn := fmt.Sprintf("S%dREP", version)
			first := w.prepare("app", otn, 500)
			again := w.prepare("app", otn, 500)
			if first.ChannelTradeNo == "" || again.ChannelTradeNo != first.ChannelTradeNo {
				t.Errorf("repeated order: prepay_id %q then %q", first.ChannelTradeNo, again.ChannelTradeNo)
			}
			_, err := w.ch.Prepare(t.Context(), w.request("app", otn, 501))
			sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)
			if !strings.Contains(cashier.ErrorMessage(err), "OUT_TRADE_NO_USED") {
				t.Errorf("changed order: %v", err)
			}
			_, err = w.ch.Prepare(t.Context(), w.request("scan", otn, 500))
			sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)
		})
	}
}

// v2Post sends a raw v2 call and returns the answer's fields.
func v2Post(t *testing.T, w *wechatWorld, path string, fields gopay.BodyMap) gopay.BodyMap {
	t.Helper()
	resp, err := w.srv.Client().Post(w.srv.URL+path, "text/xml", strings.NewReader(gopaywechat.GenerateXml(fields)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ans := make(gopay.BodyMap)
	if err := xml.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	return ans
}

func TestWeChatV2Rejections(t *testing.T) {
	w := newWechatWorld(t, 2, "")
	base := func() gopay.BodyMap {
		return gopay.BodyMap{
			"appid": wxTestAppID, "mch_id": wxTestMchID, "nonce_str": "ibuaiVcKdpRxkhJA",
			"out_trade_no": "S2REJ",
		}
	}
	signed := func(bm gopay.BodyMap, key, signType string) gopay.BodyMap {
		if signType != "" {
			bm.Set("sign_type", signType)
		}
		bm.Set("sign", gopaywechat.GetReleaseSign(key, signType, bm))
		return bm
	}
	for _, tc := range []struct {
		name       string
		fields     gopay.BodyMap
		returnMsg  string // return_code FAIL
		resultCode string // err_code of result_code FAIL
	}{
		{"no sign", base(), "缺少参数sign", ""},
		{"wrong key", signed(base(), strings.Repeat("0", 32), ""), "签名错误", ""},
		{"tampered", func() gopay.BodyMap {
			bm := signed(base(), wxTestAPIKey, "")
			bm.Set("out_trade_no", "S2REJX")
			return bm
		}(), "签名错误", ""},
		{"MD5 sign said HMAC", func() gopay.BodyMap {
			bm := signed(base(), wxTestAPIKey, "")
			bm.Set("sign_type", "HMAC-SHA256")
			return bm
		}(), "签名错误", ""},
		{"unknown sign type", signed(base(), wxTestAPIKey, "SHA1"), "sign_type参数格式错误", ""},
		{"wrong mch_id", func() gopay.BodyMap { bm := base(); bm.Set("mch_id", "1"); return signed(bm, wxTestAPIKey, "") }(), "商户号mch_id不存在", ""},
		{"wrong appid", func() gopay.BodyMap { bm := base(); bm.Set("appid", "wx0"); return signed(bm, wxTestAPIKey, "") }(), "", "APPID_MCHID_NOT_MATCH"},
		{"unknown trade", signed(base(), wxTestAPIKey, "HMAC-SHA256"), "", "ORDERNOTEXIST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := v2Post(t, w, "/sandbox/wechat/pay/orderquery", tc.fields)
			if tc.returnMsg != "" {
				if ans.GetString("return_code") != "FAIL" || ans.GetString("return_msg") != tc.returnMsg || ans.GetString("sign") != "" {
					t.Errorf("answer %v, want return_code FAIL %q, unsigned", ans, tc.returnMsg)
				}
				return
			}
			if ans.GetString("return_code") != "SUCCESS" || ans.GetString("result_code") != "FAIL" || ans.GetString("err_code") != tc.resultCode {
				t.Errorf("answer %v, want result_code FAIL %s", ans, tc.resultCode)
			}
			signType := tc.fields.GetString("sign_type")
			if signType == "" {
				signType = "MD5"
			}
			if ok, _ := gopaywechat.VerifySign(wxTestAPIKey, signType, ans); !ok {
				t.Errorf("refusal not signed with %s", signType)
			}
		})
	}
	t.Run("bad XML", func(t *testing.T) {
		resp, err := w.srv.Client().Post(w.srv.URL+"/sandbox/wechat/pay/unifiedorder", "text/xml", strings.NewReader("<xml><appid>"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "<return_code><![CDATA[FAIL]]></return_code>") {
			t.Errorf("answer %s", body)
		}
	})
	t.Run("missing parameter", func(t *testing.T) {
		bm := base()
		bm.Set("trade_type", "APP")
		ans := v2Post(t, w, "/sandbox/wechat/pay/unifiedorder", signed(bm, wxTestAPIKey, ""))
		if ans.GetString("err_code") != "PARAM_ERROR" || !strings.Contains(ans.GetString("err_code_des"), "body") {
			t.Errorf("answer %v", ans)
		}
	})
	t.Run("sign type fixed by SignType", func(t *testing.T) {
		w.sim.SignType = "HMAC-SHA256"
		defer func() { w.sim.SignType = "" }()
		ans := v2Post(t, w, "/sandbox/wechat/pay/orderquery", signed(base(), wxTestAPIKey, ""))
		if ans.GetString("return_msg") != "sign_type参数格式错误" {
			t.Errorf("MD5 accepted: %v", ans)
		}
	})
}

// v3Do sends a raw v3 call signed with key at the given time.
func v3Do(t *testing.T, w *wechatWorld, method, target, body string, key *rsa.PrivateKey, at time.Time, mchid string) (*http.Response, []byte) {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := "593BEC0C930BF1AFEB40B4A08C8FB242"
	signed := strings.TrimPrefix(target, "/sandbox/wechat")
	digest := sha256.Sum256([]byte(method + "\n" + signed + "\n" + ts + "\n" + nonce + "\n" + body + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, w.srv.URL+target, strings.NewReader(body))
	req.Header.Set("Authorization", fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",timestamp="%s",serial_no="%s",signature="%s"`,
		mchid, nonce, ts, wxTestMerchantSerial, base64.StdEncoding.EncodeToString(sig)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp, got
}

func TestWeChatV3Rejections(t *testing.T) {
	w := newWechatWorld(t, 3, "")
	order := func(change string) string {
		return `{"appid":"` + wxTestAppID + `","mchid":"` + wxTestMchID + `","description":"Gold","out_trade_no":"S3REJ",` +
			`"notify_url":"` + w.srv.URL + `/notify/wechat","amount":{"total":100,"currency":"CNY"}` + change + `}`
	}
	const path = "/sandbox/wechat/v3/pay/transactions/app"
	now := time.Now()
	for _, tc := range []struct {
		name   string
		do     func() (*http.Response, []byte)
		status int
		code   string
	}{
		{"valid", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", path, order(""), wxMerchantKey(), now, wxTestMchID)
		}, http.StatusOK, ""},
		{"other key", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", path, order(""), wxOtherKey(), now, wxTestMchID)
		}, http.StatusUnauthorized, "SIGN_ERROR"},
		{"stale timestamp", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", path, order(""), wxMerchantKey(), now.Add(-10*time.Minute), wxTestMchID)
		}, http.StatusUnauthorized, "SIGN_ERROR"},
		{"other merchant", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", path, order(""), wxMerchantKey(), now, "1900000000")
		}, http.StatusUnauthorized, "SIGN_ERROR"},
		{"no Authorization", func() (*http.Response, []byte) {
			resp, err := w.srv.Client().Post(w.srv.URL+path, "application/json", strings.NewReader(order("")))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b
		}, http.StatusUnauthorized, "SIGN_ERROR"},
		{"wrong appid", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", path, strings.Replace(order(""), wxTestAppID, "wx0", 1), wxMerchantKey(), now, wxTestMchID)
		}, http.StatusBadRequest, "APPID_MCHID_NOT_MATCH"},
		{"no amount", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", path, strings.Replace(order(""), `"total":100`, `"total":0`, 1), wxMerchantKey(), now, wxTestMchID)
		}, http.StatusBadRequest, "PARAM_ERROR"},
		{"h5 without scene_info", func() (*http.Response, []byte) {
			return v3Do(t, w, "POST", "/sandbox/wechat/v3/pay/transactions/h5", strings.Replace(order(""), "S3REJ", "S3REJH5", 1), wxMerchantKey(), now, wxTestMchID)
		}, http.StatusBadRequest, "PARAM_ERROR"},
		{"query of another merchant", func() (*http.Response, []byte) {
			return v3Do(t, w, "GET", "/sandbox/wechat/v3/pay/transactions/out-trade-no/S3REJ?mchid=1900000000", "", wxMerchantKey(), now, wxTestMchID)
		}, http.StatusBadRequest, "PARAM_ERROR"},
		{"query unknown", func() (*http.Response, []byte) {
			return v3Do(t, w, "GET", "/sandbox/wechat/v3/pay/transactions/out-trade-no/S3NONE?mchid="+wxTestMchID, "", wxMerchantKey(), now, wxTestMchID)
		}, http.StatusNotFound, "ORDER_NOT_EXIST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.do()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e struct{ Code, Message string }
			json.Unmarshal(body, &e)
			if e.Code != tc.code {
				t.Errorf("code %q, want %q: %s", e.Code, tc.code, body)
			}
			// Answers to verified requests are signed, refusals included.
			signed := resp.Header.Get("Wechatpay-Signature") != ""
			if signed != (tc.code != "SIGN_ERROR") {
				t.Errorf("signed %v: %v", signed, resp.Header)
			}
			if signed {
				ts, nonce := resp.Header.Get("Wechatpay-Timestamp"), resp.Header.Get("Wechatpay-Nonce")
				sig, _ := base64.StdEncoding.DecodeString(resp.Header.Get("Wechatpay-Signature"))
				digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
				if err := rsa.VerifyPKCS1v15(&wxPlatformKey().PublicKey, crypto.SHA256, digest[:], sig); err != nil ||
					resp.Header.Get("Wechatpay-Serial") != wxTestPlatformSerial {
					t.Errorf("answer signature: %v", err)
				}
			}
		})
	}
}

func TestWeChatFaults(t *testing.T) {
	w := newWechatWorld(t, 2, "")
	ctx := t.Context()
	w.sim.Faults().Inject(sandbox.OpQuery, 2, sandbox.Fault{HTTPStatus: http.StatusInternalServerError})
	// A call that fails the signature check does not use up the fault.
	if ans := v2Post(t, w, "/sandbox/wechat/pay/orderquery", gopay.BodyMap{"mch_id": wxTestMchID}); ans.GetString("return_code") != "FAIL" {
		t.Errorf("unsigned call: %v", ans)
	}
	for i := range 2 {
		_, err := w.ch.Query(ctx, cashier.Trade{OutTradeNo: "S2F"})
		sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)
		if !strings.Contains(cashier.ErrorMessage(err), "HTTP 500") {
			t.Errorf("call %d: %v", i, err)
		}
	}
	_, err := w.ch.Query(ctx, cashier.Trade{OutTradeNo: "S2F"})
	sandboxtest.WantErrCode(t, err, cashier.ENOTFOUND)

	w.sim.Faults().Inject(sandbox.OpClose, 0, sandbox.Fault{ErrCode: "SYSTEMERROR", ErrCodeDes: "系统超时"})
	for range 3 {
		err := w.ch.Close(ctx, cashier.Trade{OutTradeNo: "S2F"})
		sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)
	}
	w.sim.Faults().Clear()
	if err := w.ch.Close(ctx, cashier.Trade{OutTradeNo: "S2F"}); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}

	// A delay the caller does not wait for.
	w.sim.Faults().Inject(sandbox.OpPrepare, 1, sandbox.Fault{Delay: time.Minute})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = w.ch.Prepare(short, w.request("app", "S2FSLOW", 100))
	sandboxtest.WantErrCode(t, err, cashier.ECHANNEL)
	if time.Since(start) > 5*time.Second {
		t.Errorf("waited %v", time.Since(start))
	}
	// A delay alone answers normally, late.
	w.sim.Faults().Inject(sandbox.OpPrepare, 1, sandbox.Fault{Delay: 10 * time.Millisecond})
	w.prepare("scan", "S2FLATE", 100)
}

func TestWeChatPayErrors(t *testing.T) {
	w := newWechatWorld(t, 2, "")
	if status, body := w.pay(url.Values{"out_trade_no": {"S2NONE"}}, false); status != http.StatusNotFound || !strings.Contains(body, "ORDERNOTEXIST") {
		t.Errorf("unknown trade: %d %s", status, body)
	}
	if status, body := w.pay(url.Values{"out_trade_no": {"S2NONE"}}, true); status != http.StatusNotFound || !strings.Contains(body, "<html") {
		t.Errorf("unknown trade, browser: %d %s", status, body)
	}
	if status, _ := w.pay(url.Values{}, false); status != http.StatusBadRequest {
		t.Errorf("no trade given: %d", status)
	}
	cred := w.prepare("app", "S2PE1", 100)
	if status, _ := w.pay(url.Values{"out_trade_no": {"S2PE1"}, "result": {"maybe"}}, false); status != http.StatusBadRequest {
		t.Errorf("bad result: %d", status)
	}
	// By prepay_id.
	status, ans := w.payJSON(url.Values{"prepay_id": {cred.ChannelTradeNo}})
	if status != http.StatusOK || ans.OutTradeNo != "S2PE1" || ans.Status != "SUCCESS" {
		t.Errorf("pay by prepay_id: %d %+v", status, ans)
	}
	if status, _ := w.pay(url.Values{"prepay_id": {"wx0"}}, false); status != http.StatusNotFound {
		t.Errorf("unknown prepay_id: %d", status)
	}

	// cashier cannot be reached.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/notify/wechat"
	l.Close()
	req := w.request("scan", "S2PE2", 100)
	req.NotifyURL = dead
	if _, err := w.ch.Prepare(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	status, ans = w.payJSON(url.Values{"out_trade_no": {"S2PE2"}})
	if status != http.StatusBadGateway || ans.Error == "" || ans.Status != "SUCCESS" {
		t.Errorf("undeliverable notification: %d %+v", status, ans)
	}

	// Expired trades cannot be paid.
	req = w.request("wap", "S2PE3", 100)
	req.ExpiresAt = req.Now.Add(2 * time.Minute)
	cred, err = w.ch.Prepare(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	w.sim.Now = func() time.Time { return time.Now().Add(3 * time.Minute) }
	if status, _ := w.get(w.payPageOf(cred)); status != http.StatusConflict {
		t.Errorf("pay page of an expired trade: %d", status)
	}
	if status, _ := w.pay(url.Values{"out_trade_no": {"S2PE3"}}, false); status != http.StatusConflict {
		t.Errorf("paying an expired trade: %d", status)
	}
	w.sim.Now = nil

	if status, _ := w.get(w.srv.URL + "/sandbox/wechat/qr/nothing"); status != http.StatusNotFound {
		t.Errorf("unknown QR token: %d", status)
	}
}

func TestWeChatLookup(t *testing.T) {
	w := newWechatWorld(t, 3, "")
	w.sim.Lookup = func(_ context.Context, otn string) (json.RawMessage, error) {
		if otn == "S3KNOWN" {
			return json.RawMessage(`{"code_url":"weixin://wxpay/bizpayurl?pr=gone"}`), nil
		}
		return nil, cashier.Errorf(cashier.ENOTFOUND, "no attempt %s", otn)
	}
	if status, body := w.pay(url.Values{"out_trade_no": {"S3KNOWN"}}, false); status != http.StatusConflict || !strings.Contains(body, "restarted") {
		t.Errorf("attempt the simulator lost: %d %s", status, body)
	}
	if status, _ := w.pay(url.Values{"out_trade_no": {"S3NONE"}}, false); status != http.StatusNotFound {
		t.Errorf("unknown attempt: %d", status)
	}
}

func TestWeChatNotifyVersion(t *testing.T) {
	// A v3 world whose simulator is told to send v2 notifications: the
	// channel (v3) refuses them, and the simulator reports its answer.
	w := newWechatWorld(t, 3, "")
	w.sim.APIVersion = 2
	w.prepare("app", "S3V2", 100)
	status, ans := w.payJSON(url.Values{"out_trade_no": {"S3V2"}})
	if status != http.StatusOK || ans.NotifyStatus != http.StatusInternalServerError {
		t.Errorf("pay: %d %+v", status, ans)
	}
	if _, err := w.LastNote(); cashier.ErrorCode(err) == "" {
		t.Error("a v2 notification verified as v3")
	}
}

func TestWeChatNotConfigured(t *testing.T) {
	sim := &WeChat{AppID: wxTestAppID, MchID: wxTestMchID}
	mux := http.NewServeMux()
	sim.Register(mux)
	for _, path := range []string{"/sandbox/wechat/pay/unifiedorder", "/sandbox/wechat/v3/pay/transactions/app"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("<xml/>")))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
}

func TestWeChatV3SharedFakeClock(t *testing.T) {
	// cashier and the simulator on one fake clock, as in sandbox mode with an
	// injected clock: gopay still stamps requests with the wall clock.
	fake := time.Now().Add(400 * 24 * time.Hour)
	w := newWechatWorld(t, 3, "")
	w.sim.Now = func() time.Time { return fake }
	cfg := wechat.Config{
		AppID: wxTestAppID, MchID: wxTestMchID, APIVersion: 3, APIv3Key: wxTestAPIv3Key,
		PrivateKey: wxMerchantKey(), SerialNo: wxTestMerchantSerial,
		PlatformKeys: map[string]*rsa.PublicKey{wxTestPlatformSerial: &wxPlatformKey().PublicKey},
		BaseURL:      w.srv.URL + "/sandbox/wechat", HTTPClient: w.srv.Client(),
		Now: func() time.Time { return fake },
	}
	ch, err := wechat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.ch, w.Verifier = ch, ch
	req := w.request("app", "S3FAKE", 100)
	req.Now, req.ExpiresAt = fake, fake.Add(time.Hour)
	if _, err := w.ch.Prepare(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if status, ans := w.payJSON(url.Values{"out_trade_no": {"S3FAKE"}}); status != http.StatusOK || ans.NotifyStatus != http.StatusNoContent {
		t.Fatalf("pay: %d %+v", status, ans)
	}
	if n, err := w.LastNote(); err != nil || !n.PaidAt.Equal(fake.Truncate(time.Second)) {
		t.Errorf("notification %+v, %v", n, err)
	}
}
