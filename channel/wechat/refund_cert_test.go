package wechat

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier"
	wechatsim "cashier/sandbox/wechat"
)

// testClientCert is a merchant API certificate, self-signed: the
// simulator's TLS server asks for one and does not check it.
func testClientCert(t *testing.T) *tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: testMchID, Organization: []string{"WeChat Pay merchant"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &merchantKey().PublicKey, merchantKey())
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: merchantKey()}
}

func TestRefundClientCertificate(t *testing.T) {
	sim := &wechatsim.WeChat{AppID: testAppID, MchID: testMchID, APIKey: testAPIKey}
	mux := http.NewServeMux()
	sim.Register(mux)
	mux.HandleFunc("POST /notify/wechat", func(rw http.ResponseWriter, r *http.Request) {
		rw.Write(newTestWeChat(t, testConfig(2, "")).Reply(true).Body)
	})
	// WeChat Pay's refund endpoint wants the merchant's certificate, its
	// other endpoints do not look.
	var (
		mu        sync.Mutex
		presented = map[string]bool{}
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		cert := len(r.TLS.PeerCertificates) > 0
		mu.Lock()
		presented[r.URL.Path] = cert
		mu.Unlock()
		if strings.Contains(r.URL.Path, "/secapi/") && !cert {
			http.Error(rw, "client certificate required", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(rw, r)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	sim.HTTPClient = srv.Client()

	cfg := testConfig(2, srv.URL+"/sandbox/wechat")
	cfg.HTTPClient = srv.Client()
	cfg.ClientCert = testClientCert(t)
	ch := newTestWeChat(t, cfg)
	ctx := t.Context()
	pay := prepareRequest("app", "WCERT")
	pay.NotifyURL = srv.URL + "/notify/wechat"
	if _, err := ch.Prepare(ctx, pay); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().PostForm(srv.URL+"/sandbox/wechat/pay", url.Values{"out_trade_no": {pay.OutTradeNo}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req := cashier.RefundRequest{OutTradeNo: pay.OutTradeNo, OutRefundNo: "WCERT-1", Amount: 100, Total: pay.Amount}
	if _, err := ch.Refund(ctx, req); err != nil {
		t.Fatalf("refund with the certificate: %v", err)
	}
	if _, err := ch.QueryRefund(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo}, req.OutRefundNo); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !presented["/sandbox/wechat/secapi/pay/refund"] || presented["/sandbox/wechat/pay/unifiedorder"] || presented["/sandbox/wechat/pay/refundquery"] {
		t.Errorf("certificate presented: %v", presented)
	}
	mu.Unlock()

	cfg.ClientCert = nil
	_, err = newTestWeChat(t, cfg).Refund(ctx, req)
	wantChannelError(t, err, "HTTP 403")
}

func TestClientCertConfig(t *testing.T) {
	warned := func(cfg Config) bool {
		var buf bytes.Buffer
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		newTestWeChat(t, cfg)
		return strings.Contains(buf.String(), "ClientCert")
	}
	cert := testClientCert(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"v2, WeChat Pay, no certificate", testConfig(2, ""), true},
		{"v2, backup host, no certificate", testConfig(2, "https://api2.mch.weixin.qq.com"), true},
		{"v2, WeChat Pay, certificate", func() Config { c := testConfig(2, ""); c.ClientCert = cert; return c }(), false},
		{"v2, sandbox", testConfig(2, "http://127.0.0.1:8080/sandbox/wechat"), false},
		{"v3", testConfig(3, ""), false},
	} {
		if got := warned(tc.cfg); got != tc.want {
			t.Errorf("%s: warned %v, want %v", tc.name, got, tc.want)
		}
	}

	cfg := testConfig(2, "")
	cfg.ClientCert = &tls.Certificate{}
	if _, err := New(cfg); err == nil {
		t.Error("an empty ClientCert accepted")
	}
	cfg.ClientCert = cert
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })}
	if _, err := New(cfg); err == nil {
		t.Error("ClientCert with a transport that cannot present it accepted")
	}
}
