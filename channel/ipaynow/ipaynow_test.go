package ipaynow

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"cashier"
)

// md5Sign is iPayNow's signature written here from the protocol,
// independently of the channel's code: sorted non-empty k=v joined by &,
// then & and the MD5 of the key, MD5, lower-case hex.
func md5Sign(key string, fields map[string]string, skip ...string) string {
	var names []string
	for k, v := range fields {
		if v == "" {
			continue
		}
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == k
		}
		if !skipped {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, k+"="+fields[k])
	}
	keySum := md5.Sum([]byte(key))
	sum := md5.Sum([]byte(strings.Join(parts, "&") + "&" + hex.EncodeToString(keySum[:])))
	return hex.EncodeToString(sum[:])
}

func newTest(t *testing.T, cfg Config) *IPayNow {
	t.Helper()
	if cfg.AppID == "" {
		cfg.AppID, cfg.AppKey = "150753082825470", "8jTST7ywIBY0QQ3RlcxWEl08Xj9gaYyQ"
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The public N001 vector verifies, and says what was paid.
func TestNotificationVector(t *testing.T) {
	b, err := os.ReadFile("testdata/ipaynow_notify.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		AppKey string `json:"app_key"`
		Body   string `json:"body"`
	}
	json.Unmarshal(b, &v)
	c := newTest(t, Config{AppID: "150753082825470", AppKey: v.AppKey})
	n, err := c.VerifyNotification(context.Background(), &cashier.InboundRequest{Method: "POST", Body: []byte(v.Body)})
	if err != nil {
		t.Fatal(err)
	}
	if n.OutTradeNo != "gSWjK1XE7epRd" || n.Amount != 1 || n.Status != cashier.NotifyPaid || n.ChannelTradeNo != "200701201710171052521078180" ||
		!n.PaidAt.Equal(time.Date(2017, 10, 17, 2, 53, 5, 0, time.UTC)) {
		t.Errorf("read as %+v", n)
	}
	for name, body := range map[string]string{
		"amount changed":        strings.Replace(v.Body, "mhtOrderAmt=1", "mhtOrderAmt=100", 1),
		"status changed":        strings.Replace(v.Body, "transStatus=A001", "transStatus=A002", 1),
		"signature removed":     strings.Replace(v.Body, "signature=579ada44a4a2e0dc074854837c995e45", "", 1),
		"signed with other key": strings.Replace(v.Body, "579ada44a4a2e0dc074854837c995e45", "0079ada44a4a2e0dc074854837c995e4", 1),
	} {
		_, err := c.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(body)})
		if code := cashier.ErrorCode(err); code != cashier.EFORBIDDEN && code != cashier.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := newTest(t, Config{AppID: "999", AppKey: v.AppKey})
	if _, err := other.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(v.Body)}); cashier.ErrorCode(err) != cashier.EUNPROCESSABLE {
		t.Errorf("another app's notification: %v", err)
	}
}

// APP mode: the seed's parameters, signed over the fields the app plugin
// signs (either version's set), with the order's timeout.
func TestAppParams(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	req := cashier.PrepareRequest{Gateway: GatewayAlipay, OutTradeNo: "HNOW202611231000000000000001", Amount: 600, Subject: "Starter pack",
		Now: now, ExpiresAt: now.Add(30 * time.Minute), ClientIP: "10.1.2.3", NotifyURL: "https://pay.example.com/api/v1/order/notify/helloNow"}
	for _, set := range []string{SignFieldsPlugin, SignFieldsIOS2017} {
		c := newTest(t, Config{SignFields: set})
		cred, err := c.Prepare(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(cred.Value)
		var got map[string]any
		json.Unmarshal(raw, &got)
		want := map[string]any{"funcode": "WP001", "version": "1.0.0", "appId": "150753082825470", "mhtOrderNo": req.OutTradeNo,
			"mhtOrderName": "Starter pack", "mhtOrderType": "01", "mhtCurrencyType": "156", "mhtOrderAmt": 600.0,
			"mhtOrderDetail": "Starter pack", "mhtOrderTimeOut": 1800.0, "mhtOrderStartTime": "20261123180000",
			"notifyUrl": req.NotifyURL, "mhtCharset": "UTF-8", "deviceType": "01", "payChannelType": "12",
			"consumerCreateIp": "10.1.2.3", "mhtSignType": "MD5"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", set, k, got[k], v)
			}
		}
		signed := map[string]string{"appId": "150753082825470", "mhtCharset": "UTF-8", "mhtCurrencyType": "156", "mhtOrderAmt": "600",
			"mhtOrderDetail": "Starter pack", "mhtOrderName": "Starter pack", "mhtOrderNo": req.OutTradeNo, "mhtOrderStartTime": "20261123180000",
			"mhtOrderType": "01", "notifyUrl": req.NotifyURL, "payChannelType": "12", "mhtOrderTimeOut": "1800"}
		if set == SignFieldsIOS2017 {
			signed["funcode"], signed["deviceType"], signed["version"], signed["mhtSignType"] = "WP001", "01", "1.0.0", "MD5"
		}
		if sig := md5Sign("8jTST7ywIBY0QQ3RlcxWEl08Xj9gaYyQ", signed); got["mhtSignature"] != sig {
			t.Errorf("%s: mhtSignature %v, want %s", set, got["mhtSignature"], sig)
		}
	}
	c := newTest(t, Config{OrderType: "05"})
	cred, _ := c.Prepare(context.Background(), req)
	if cred.Value.(AppParams).MhtOrderType != "05" {
		t.Error("order_type 05 not sent")
	}
	if _, err := c.Prepare(context.Background(), cashier.PrepareRequest{Gateway: "unionpay", OutTradeNo: "X", Amount: 1}); cashier.ErrorCode(err) != cashier.EINVALID {
		t.Errorf("unknown gateway: %v", err)
	}
}

// Timeouts stay within the 60 to 3600 seconds iPayNow takes.
func TestTimeOut(t *testing.T) {
	now := time.Now()
	for d, want := range map[time.Duration]int{30 * time.Minute: 1800, 10 * time.Second: 60, 3 * time.Hour: 3600} {
		if got := timeOut(now, now.Add(d)); got != want {
			t.Errorf("%v: %d, want %d", d, got, want)
		}
	}
}

// Refund requests are signed without signType, which is added after.
func TestRefundSigning(t *testing.T) {
	fields := map[string]string{"funcode": "R001", "appId": "1", "mhtRefundNo": "RF1", "signType": "MD5"}
	if sign("k", fields, "mhtSignature", "signType") != md5Sign("k", fields, "signType") {
		t.Error("refund signature covers signType")
	}
	v := url.Values{}
	v.Set("a", "x+y")
	if f, _ := form(v.Encode()); f["a"] != "x+y" {
		t.Errorf("a + in a value is data: %q", f["a"])
	}
}

// H5 mode: what iPayNow answers is believed only when it verifies; a refusal
// and a failure are channel errors, and nothing is made of them.
func TestH5Answers(t *testing.T) {
	const key = "8jTST7ywIBY0QQ3RlcxWEl08Xj9gaYyQ"
	answer := func(key string, fields map[string]string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			if got := r.PostForm.Get("mhtSignature"); got != md5Sign("8jTST7ywIBY0QQ3RlcxWEl08Xj9gaYyQ", formMap(r.PostForm), "mhtSignature") {
				t.Errorf("request signature %s", got)
			}
			fields["signType"] = "MD5"
			fields["signature"] = md5Sign(key, fields, "signature")
			v := url.Values{}
			for k, val := range fields {
				v.Set(k, val)
			}
			w.Write([]byte(v.Encode()))
		}
	}
	link := "alipays://platformapi/startapp?appId=10000007&qrcode=https%3A%2F%2Fqr.alipay.com%2Fbax1"
	for name, c := range map[string]struct {
		h    http.HandlerFunc
		code string
	}{
		"a link":                 {answer(key, map[string]string{"responseCode": "A001", "tn": link, "appId": "150753082825470"}), ""},
		"signed by another key":  {answer("another", map[string]string{"responseCode": "A001", "tn": link}), cashier.ECHANNEL},
		"a refusal":              {answer(key, map[string]string{"responseCode": "A002", "responseMsg": "E002#通道错误"}), cashier.ECHANNEL},
		"an HTTP error":          {func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) }, cashier.ECHANNEL},
		"another app's answer":   {answer(key, map[string]string{"responseCode": "A001", "tn": link, "appId": "1"}), cashier.ECHANNEL},
		"a link-less acceptance": {answer(key, map[string]string{"responseCode": "A001"}), cashier.ECHANNEL},
	} {
		srv := httptest.NewServer(c.h)
		ch := newTest(t, Config{GatewayURL: srv.URL + "/", H5: []string{GatewayAlipay}})
		now := time.Now()
		cred, err := ch.Prepare(context.Background(), cashier.PrepareRequest{Gateway: GatewayAlipay, OutTradeNo: "HNOW1", Amount: 600,
			Subject: "p", Now: now, ExpiresAt: now.Add(time.Hour), NotifyURL: "https://x/n"})
		srv.Close()
		if cashier.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %q", name, err, c.code)
			continue
		}
		if c.code == "" {
			if h5, ok := cred.Value.(H5Link); !ok || !h5.IsH5 || h5.URL != link {
				t.Errorf("%s: %+v", name, cred.Value)
			}
		}
	}
}

func formMap(v url.Values) map[string]string {
	m := map[string]string{}
	for k := range v {
		m[k] = v.Get(k)
	}
	return m
}

// New takes a refund URL with or without its final "/", and refuses modes
// it does not know, in the configuration file's words.
func TestNewConfig(t *testing.T) {
	if c := newTest(t, Config{AppID: "1", AppKey: "k", RefundURL: "https://pay.example/refund"}); c.cfg.RefundURL != "https://pay.example/refund/" {
		t.Errorf("refund URL %q", c.cfg.RefundURL)
	}
	for _, cfg := range []Config{{H5: []string{"unionpay"}}, {OutputType: "3"}, {OrderType: "5"}, {SignFields: "android"}} {
		cfg.AppID, cfg.AppKey = "1", "k"
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "helloNow.") {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
