package app_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// The request-path benchmarks run clients in parallel over real HTTP on
// loopback, as the project's load run does, and report their rate
// next to the RSA-2048 signing rate of all cores measured in the same run:
// an Alipay order costs one signature and a notification one verification,
// so "per_rsa_sign" falls when anything else on the path grows.
//
//	go test ./app -run '^$' -bench Parallel -benchtime 3s
//	CASHIER_TEST_DATABASE_URL=postgres://… go test ./app -run '^$' -bench Parallel -cpuprofile cpu.out

// benchClients is how many requests are in flight: the load run's 16.
const benchClients = 16

// benchHTTP is a client that keeps a connection per parallel client.
func benchHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * benchClients}, Timeout: 30 * time.Second}
}

// rsaSignRate measures RSA-2048 PKCS#1 v1.5 signatures per second on all
// cores, for d.
func rsaSignRate(b *testing.B, d time.Duration) float64 {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("app_id=9021000000000001&biz_content={}&charset=utf-8&method=alipay.trade.app.pay"))
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < d {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// reportRate reports n requests over the benchmark's time and the ratio of
// that rate to the RSA signing rate.
func reportRate(b *testing.B, n int, unit string, rsaRate float64) {
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, unit)
	b.ReportMetric(rsaRate, "rsa_signs/s")
	b.ReportMetric(rate/rsaRate, "per_rsa_sign")
}

// postForm posts a form and returns the status and body.
func postForm(c *http.Client, u, token, body string) (int, string, error) {
	return postBody(c, u, token, "application/x-www-form-urlencoded", body)
}

func postBody(c *http.Client, u, token, contentType, body string) (int, string, error) {
	req, err := http.NewRequest("POST", u, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// benchHarness is a harness for load: River's poll of due jobs at its
// default, as in production.
func benchHarness(b *testing.B, dsn string) *harness {
	return newHarnessWith(b, dsn, func(c *app.Config) { c.PollDelay = app.Duration(30 * time.Minute) }, app.Options{})
}

// POST /api/v1/order for Alipay app payments: token, price, sign the order
// string, write the order, its attempt and their jobs.
func BenchmarkParallelCreateOrder(b *testing.B) {
	storetest.Dialects(b, func(b *testing.B, dsn string) {
		h := benchHarness(b, dsn)
		c := benchHTTP()
		body := url.Values{"source": {"bench"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}}.Encode()
		rsaRate := rsaSignRate(b, 500*time.Millisecond)
		b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				status, raw, err := postForm(c, h.url+"/api/v1/order", h.token, body)
				if err != nil || status != http.StatusOK || !strings.Contains(raw, `"code":0`) {
					b.Errorf("create: %d %s %v", status, raw, err)
					return
				}
			}
		})
		reportRate(b, b.N, "orders/s", rsaRate)
	})
}

// Alipay notifications, each for its own pending attempt: verify RSA2, then
// record and apply in one transaction.
func BenchmarkParallelAlipayNotify(b *testing.B) {
	storetest.Dialects(b, func(b *testing.B, dsn string) {
		h := benchHarness(b, dsn)
		c := benchHTTP()
		key := h.platformKey()
		b.StopTimer()
		bodies := make([]string, b.N)
		var next atomic.Int64
		var wg sync.WaitGroup
		buy := url.Values{"source": {"bench"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}}.Encode()
		for range benchClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
					status, raw, err := postForm(c, h.url+"/api/v1/order", h.token, buy)
					otn := between(raw, `out_trade_no%22%3A%22`, `%22`)
					if err != nil || status != http.StatusOK || otn == "" {
						b.Errorf("buy: %d %s %v", status, raw, err)
						return
					}
					over := map[string]string{"notify_id": fmt.Sprint("bench", i), "trade_no": fmt.Sprintf("2026112322001%015d", i)}
					bodies[i] = signAlipay(b, key, h.alipayNotification(otn, "6.00", over)).Encode()
				}
			}()
		}
		wg.Wait()
		if b.Failed() {
			return
		}
		rsaRate := rsaSignRate(b, 500*time.Millisecond)
		next.Store(0)
		b.SetParallelism(max(1, 2*benchClients/runtime.GOMAXPROCS(0)))
		b.StartTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1) - 1
				status, raw, err := postForm(c, h.url+"/api/v1/order/notify/alipay", "", bodies[i])
				if err != nil || status != http.StatusOK || raw != "success" {
					b.Errorf("notify: %d %q %v", status, raw, err)
					return
				}
			}
		})
		reportRate(b, b.N, "notifications/s", rsaRate)
	})
}

// between is the text of s between the first before and the next after.
func between(s, before, after string) string {
	_, rest, ok := strings.Cut(s, before)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, after)
	return v
}

// The machine's RSA-2048 PKCS#1 v1.5 signing rate on one core: each app
// order costs one.
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

// A WeChat Pay v2 notification end to end, one at a time: parse XML, verify
// the MD5 sign, record and apply.
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
			status, raw, err := postBody(http.DefaultClient, h.url+"/api/v1/order/notify/wechat", "", "text/xml", body)
			if err != nil || status != http.StatusOK || raw != wechatAck {
				b.Fatalf("reply %d %q %v", status, raw, err)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "notifications/s")
	})
}

// How the cost of an order grows with the clients sending them at once:
// rate and latency at 1, 4, 16 and 64 clients, each its own connection.
//
//	go test ./app -run '^$' -bench CreateOrderClients -benchtime 2000x
func BenchmarkCreateOrderClients(b *testing.B) {
	storetest.Dialects(b, func(b *testing.B, dsn string) {
		h := benchHarness(b, dsn)
		body := url.Values{"source": {"bench"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {"app"}}.Encode()
		for _, clients := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
				c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
				lat := make([]time.Duration, b.N)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
							start := time.Now()
							status, raw, err := postForm(c, h.url+"/api/v1/order", h.token, body)
							lat[i] = time.Since(start)
							if err != nil || status != http.StatusOK {
								b.Errorf("create: %d %s %v", status, raw, err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			})
		}
	})
}
