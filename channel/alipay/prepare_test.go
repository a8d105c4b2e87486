package alipay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier"
)

var prepareNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // 11:04:05 in Beijing

func prepareRequest(gateway string) cashier.PrepareRequest {
	return cashier.PrepareRequest{
		Gateway:    gateway,
		OutTradeNo: "P20260102000001",
		Amount:     1234,
		Subject:    "Gold & gems +100 <vip>",
		Now:        prepareNow,
		ExpiresAt:  prepareNow.Add(29*time.Minute + 59*time.Second),
		NotifyURL:  "https://cashier.example.test/api/v1/order/notify/alipay",
		ReturnURL:  "https://cashier.example.test/api/v1/order/return/alipay",
	}
}

// decodeCredential returns the parameters of an order string or pay URL.
func decodeCredential(t *testing.T, gateway string, cred *cashier.Credential) map[string]string {
	t.Helper()
	s, ok := cred.Value.(string)
	if !ok {
		t.Fatalf("credential is a %T, want string", cred.Value)
	}
	if gateway != GatewayApp {
		prefix := testGateway + "?"
		if !strings.HasPrefix(s, prefix) {
			t.Fatalf("URL %q does not start with %q", s, prefix)
		}
		s = strings.TrimPrefix(s, prefix)
	}
	values, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for k, v := range values {
		if len(v) != 1 {
			t.Fatalf("parameter %s repeated", k)
		}
		params[k] = v[0]
	}
	return params
}

func TestPrepareGateways(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	for _, tc := range []struct{ gateway, method, productCode string }{
		{"app", "alipay.trade.app.pay", "QUICK_MSECURITY_PAY"},
		{"web", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"},
		{"wap", "alipay.trade.wap.pay", "QUICK_WAP_WAY"},
	} {
		t.Run(tc.gateway, func(t *testing.T) {
			req := prepareRequest(tc.gateway)
			cred, err := a.Prepare(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			p := decodeCredential(t, tc.gateway, cred)
			want := map[string]string{
				"app_id":     testAppID,
				"method":     tc.method,
				"format":     "JSON",
				"charset":    "utf-8",
				"sign_type":  "RSA2",
				"version":    "1.0",
				"notify_url": req.NotifyURL,
			}
			if tc.gateway != GatewayApp {
				want["return_url"] = req.ReturnURL
			} else if _, ok := p["return_url"]; ok {
				t.Error("app order string carries return_url")
			}
			for k, v := range want {
				if p[k] != v {
					t.Errorf("%s = %q, want %q", k, p[k], v)
				}
			}
			var biz map[string]string
			if err := json.Unmarshal([]byte(p["biz_content"]), &biz); err != nil {
				t.Fatalf("biz_content: %v", err)
			}
			wantBiz := map[string]string{
				"out_trade_no":    req.OutTradeNo,
				"total_amount":    "12.34",
				"subject":         req.Subject,
				"product_code":    tc.productCode,
				"timeout_express": "29m",
			}
			for k, v := range wantBiz {
				if biz[k] != v {
					t.Errorf("biz_content %s = %q, want %q", k, biz[k], v)
				}
			}
			// gopay stamps the current time, in Beijing.
			ts, err := time.ParseInLocation("2006-01-02 15:04:05", p["timestamp"], beijingForTest(t))
			if err != nil || time.Since(ts).Abs() > time.Minute {
				t.Errorf("timestamp %q is not the current Beijing time", p["timestamp"])
			}
			// Alipay verifies over everything but sign, sign_type included.
			if err := verifyRequest(&appKey().PublicKey, p); err != nil {
				t.Errorf("sign does not verify with the app public key: %v", err)
			}
			if err := verifyRequest(&otherKey().PublicKey, p); err == nil {
				t.Error("sign verifies with an unrelated key")
			}
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	ctx := context.Background()

	req := prepareRequest("scan")
	_, err := a.Prepare(ctx, req)
	wantCode(t, err, cashier.EINVALID)
	if !strings.Contains(cashier.ErrorMessage(err), "scan") {
		t.Errorf("message %q does not name the gateway", cashier.ErrorMessage(err))
	}

	for _, expiresAt := range []time.Time{prepareNow, prepareNow.Add(-time.Second)} {
		req = prepareRequest("web")
		req.ExpiresAt = expiresAt
		_, err = a.Prepare(ctx, req)
		wantCode(t, err, cashier.EUNPROCESSABLE)
		if cashier.ErrorMessage(err) != "order has expired" {
			t.Errorf("message %q", cashier.ErrorMessage(err))
		}
	}

	for name, mutate := range map[string]func(*cashier.PrepareRequest){
		"zero amount":     func(r *cashier.PrepareRequest) { r.Amount = 0 },
		"no out_trade_no": func(r *cashier.PrepareRequest) { r.OutTradeNo = "" },
		"blank subject":   func(r *cashier.PrepareRequest) { r.Subject = " " },
	} {
		req = prepareRequest("app")
		mutate(&req)
		_, err = a.Prepare(ctx, req)
		if cashier.ErrorCode(err) != cashier.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
}

func TestPrepareTimeout(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	for left, want := range map[time.Duration]string{
		time.Second:                     "1m",
		59 * time.Second:                "1m",
		time.Minute:                     "1m",
		2*time.Minute - time.Nanosecond: "1m",
		2 * time.Hour:                   "120m",
		30 * 24 * time.Hour:             "21600m",
	} {
		req := prepareRequest("app")
		req.ExpiresAt = req.Now.Add(left)
		cred, err := a.Prepare(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var biz map[string]string
		if err := json.Unmarshal([]byte(decodeCredential(t, "app", cred)["biz_content"]), &biz); err != nil {
			t.Fatal(err)
		}
		if biz["timeout_express"] != want {
			t.Errorf("%v left: timeout_express %q, want %q", left, biz["timeout_express"], want)
		}
	}
}

// selfSignedPEM makes a certificate for pub, as the tests' stand-in for
// Alipay's platform certificate.
func selfSignedPEM(t *testing.T, key *rsa.PrivateKey, pub *rsa.PublicKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Issuer:       pkix.Name{CommonName: "test"},
		Subject:      pkix.Name{CommonName: "Alipay test platform"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestCertificateMode(t *testing.T) {
	cfg := certConfig(t, selfSignedPEM(t, platformKey(), &platformKey().PublicKey))
	a := newTestAlipay(t, cfg)
	// Notifications are verified with the key of AlipayPublicCert.
	body := signAs(t, platformKey(), notifyParams())
	if _, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(body)}); err != nil {
		t.Errorf("notification signed with the certificate's key: %v", err)
	}
	body = signAs(t, otherKey(), notifyParams())
	_, err := a.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: []byte(body)})
	wantCode(t, err, cashier.EFORBIDDEN)
	cred, err := a.Prepare(context.Background(), prepareRequest("wap"))
	if err != nil {
		t.Fatal(err)
	}
	p := decodeCredential(t, "wap", cred)
	if p["app_cert_sn"] != "e90dd23a37c5c7b616e003970817ff82" {
		t.Errorf("app_cert_sn %q", p["app_cert_sn"])
	}
	if p["alipay_root_cert_sn"] != "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6" {
		t.Errorf("alipay_root_cert_sn %q", p["alipay_root_cert_sn"])
	}
	if err := verifyRequest(&cfg.PrivateKey.PublicKey, p); err != nil {
		t.Error("sign does not cover the certificate SNs")
	}

	// The app certificate must certify the app key.
	bad := cfg
	bad.PrivateKey = appKey()
	if _, err := New(bad); err == nil {
		t.Error("AppCert for another key accepted")
	}
	bad = cfg
	bad.AlipayRootCert = nil
	if _, err := New(bad); err == nil {
		t.Error("incomplete certificate mode accepted")
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

func TestNewValidates(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"no app id":        func(c *Config) { c.AppID = "" },
		"no private key":   func(c *Config) { c.PrivateKey = nil },
		"no platform key":  func(c *Config) { c.AlipayPublicKey = nil },
		"no gateway":       func(c *Config) { c.GatewayURL = "" },
		"relative gateway": func(c *Config) { c.GatewayURL = "/gateway.do" },
		"gateway query":    func(c *Config) { c.GatewayURL = testGateway + "?charset=utf-8" },
	} {
		cfg := testConfig()
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	a := newTestAlipay(t, testConfig())
	if a.Name() != "alipay" {
		t.Errorf("Name %q", a.Name())
	}
	if got := strings.Join(a.Gateways(), ","); got != "app,web,wap,qr" {
		t.Errorf("Gateways %q", got)
	}
}

// The channel shares one gopay client between calls: each credential must
// carry its own request's URLs.
func TestPrepareConcurrent(t *testing.T) {
	a := newTestAlipay(t, testConfig())
	reqs := make([]cashier.PrepareRequest, 16)
	creds := make([]*cashier.Credential, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		reqs[i] = prepareRequest("web")
		reqs[i].OutTradeNo = fmt.Sprintf("C%d", i)
		reqs[i].NotifyURL = fmt.Sprintf("https://cashier.example.test/notify/%d", i)
		reqs[i].ReturnURL = fmt.Sprintf("https://cashier.example.test/return/%d", i)
		wg.Go(func() { creds[i], errs[i] = a.Prepare(context.Background(), reqs[i]) })
	}
	wg.Wait()
	for i, req := range reqs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		p := decodeCredential(t, "web", creds[i])
		if p["notify_url"] != req.NotifyURL || p["return_url"] != req.ReturnURL || !strings.Contains(p["biz_content"], `"`+req.OutTradeNo+`"`) {
			t.Errorf("attempt %d got %s, %s, %s", i, p["notify_url"], p["return_url"], p["biz_content"])
		}
	}
}
