package app_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// POST /api/v1/order through the HTTP handler: parse, price, sign the Alipay
// order string, write the order and its attempt.
func BenchmarkCreateOrder(b *testing.B) {
	storetest.Dialects(b, func(b *testing.B, dsn string) {
		h := newHarness(b, dsn)
		body := url.Values{"source": {"bench"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}}.Encode()
		b.ResetTimer()
		for b.Loop() {
			req := httptest.NewRequest("POST", "/api/v1/order", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+h.token)
			w := httptest.NewRecorder()
			h.app.Handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	})
}

// An Alipay notification end to end: record raw, verify RSA2, apply.
func BenchmarkAlipayNotify(b *testing.B) {
	storetest.Dialects(b, func(b *testing.B, dsn string) {
		h := newHarness(b, dsn)
		key := h.platformKey()
		n := 0
		for b.Loop() {
			b.StopTimer()
			id, _ := h.mustBuy("app", nil)
			body := signAlipay(b, key, h.alipayNotification(h.lastOutTradeNo(id), "6.00", nil)).Encode()
			b.StartTimer()
			req := httptest.NewRequest("POST", "/api/v1/order/notify/alipay", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			h.app.Handler.ServeHTTP(w, req)
			if w.Body.String() != "success" {
				b.Fatalf("reply %q", w.Body)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "notifications/s")
	})
}

// The machine's RSA-2048 PKCS#1 v1.5 signing rate: each app order costs one.
func BenchmarkRSA2048Sign(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("app_id=9021000000000001&biz_content={}&charset=utf-8&method=alipay.trade.app.pay"))
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signatures/s")
}

// A WeChat Pay v2 notification end to end: record raw, parse XML, verify MD5
// sign, apply.
func BenchmarkWeChatV2Notify(b *testing.B) {
	storetest.Dialects(b, func(b *testing.B, dsn string) {
		h := wechatVersionHarness(b, dsn, 2, app.Options{})
		key := h.sandboxSecret("wechat_api_key.txt")
		n := 0
		for b.Loop() {
			b.StopTimer()
			r := h.buyWechat("app")
			if r.Status != 200 {
				b.Fatalf("buy: %d %s", r.Status, r.Message)
			}
			body := wechatV2Notification(key, h.lastOutTradeNo(r.OrderID), 600, nil)
			b.StartTimer()
			req := httptest.NewRequest("POST", "/api/v1/order/notify/wechat", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/xml")
			w := httptest.NewRecorder()
			h.app.Handler.ServeHTTP(w, req)
			if w.Body.String() != wechatAck {
				b.Fatalf("reply %q", w.Body)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "notifications/s")
	})
}
