package app_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier"
	"cashier/api"
	"cashier/app"
	"cashier/pemkey"
	alipaysim "cashier/sandbox/alipay"
	wechatsim "cashier/sandbox/wechat"
)

// clock is a settable clock for tests: nothing sleeps, time is moved.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// harness is a cashier serving real HTTP on loopback, in sandbox mode.
type harness struct {
	t     testing.TB
	app   *app.App
	url   string
	clock *clock
	token string

	dsn, data   string
	configure   func(*app.Config)
	opts        app.Options
	srv         *httptest.Server
	stopped     bool
	jobsRunning bool
}

var (
	keysOnce sync.Once
	keysDir  string
)

// sandboxKeys generates the sandbox key pairs once per test binary; every
// harness gets a copy, which saves seconds of RSA key generation.
func sandboxKeys(t testing.TB) string {
	keysOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cashier-keys-")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"alipay_app", "alipay_platform", "wechat_merchant", "wechat_platform", "adapay_app", "adapay_platform"} {
			if _, err := pemkey.EnsureRSAKeyPair(dir, name, 2048); err != nil {
				t.Fatal(err)
			}
		}
		keysDir = dir
	})
	return keysDir
}

func newHarness(t testing.TB, dsn string) *harness {
	t.Helper()
	return newHarnessWith(t, dsn, nil, app.Options{})
}

// newHarnessWith is newHarness with the configuration and options changed by
// configure and opts (its Now and Logger are the harness's own).
func newHarnessWith(t testing.TB, dsn string, configure func(*app.Config), opts app.Options) *harness {
	t.Helper()
	data := t.TempDir()
	sb := filepath.Join(data, "sandbox")
	if err := os.MkdirAll(sb, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(sandboxKeys(t))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(keysDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sb, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, dsn: dsn, data: data, configure: configure, opts: opts,
		clock: &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}
	h.boot("127.0.0.1:0")
	h.token = h.tokenFor(app.DemoUser)
	return h
}

// boot builds the harness's cashier and serves it on addr. River schedules
// by the harness's clock and looks for due jobs often; jobs run only after
// startJobs.
func (h *harness) boot(addr string) {
	t := h.t
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := app.Config{Data: h.data, DB: h.dsn, PublicURL: h.url}
	if h.configure != nil {
		h.configure(&cfg)
	}
	opts := h.opts
	opts.Now, opts.Logger, opts.JobsUseNow, opts.JobPollInterval = h.clock.Now, log, true, 20*time.Millisecond
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	h.app, h.srv = a, srv
	h.stopped = false
	t.Cleanup(h.shutdown)
}

// shutdown stops serving and working jobs, and closes the store.
func (h *harness) shutdown() {
	if h.stopped {
		return
	}
	h.stopped = true
	h.srv.Close()
	if h.jobsRunning {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h.app.Stop(ctx)
		cancel()
		h.jobsRunning = false
	}
	h.app.Close()
}

// startJobs makes the harness's cashier work its background jobs.
func (h *harness) startJobs() {
	h.t.Helper()
	if err := h.app.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.jobsRunning = true
}

// restart stops this cashier and starts another on the same database, data
// directory and address, as a redeploy would.
func (h *harness) restart() {
	h.t.Helper()
	addr := strings.TrimPrefix(h.url, "http://")
	h.shutdown()
	h.boot(addr)
}

// twin starts a second cashier on the same database, data and clock, as a
// second instance behind a load balancer.
func (h *harness) twin() *harness {
	h.t.Helper()
	t := &harness{t: h.t, dsn: h.dsn, data: h.data, configure: h.configure, opts: h.opts, clock: h.clock}
	t.boot("127.0.0.1:0")
	t.token = h.token
	return t
}

// eventually polls cond until it holds or the deadline passes: no sleeping
// for a fixed time.
func (h *harness) eventually(what string, within time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) tokenFor(user string) string {
	tok, err := api.IssueToken(h.app.JWTSecret, user, time.Now(), time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// reply is the order API's envelope as a client reads it.
type reply struct {
	Status  int             `json:"-"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Error   string          `json:"error"`
	OrderID string          `json:"order_id"`
	Data    json.RawMessage `json:"data"`
}

func (h *harness) do(method, path, token, contentType string, body io.Reader) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		h.t.Fatalf("%s %s: status %d, body %q is not an envelope", method, path, resp.StatusCode, raw)
	}
	r.Status = resp.StatusCode
	return r
}

func (h *harness) post(path, token string, form url.Values) reply {
	h.t.Helper()
	return h.do("POST", path, token, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func (h *harness) get(path, token string) reply {
	h.t.Helper()
	return h.do("GET", path, token, "", nil)
}

// buy creates a package order paid with Alipay through the given gateway.
func (h *harness) buy(gateway string, extra url.Values) reply {
	h.t.Helper()
	form := url.Values{"source": {"ch001"}, "package_id": {"1"}, "channel": {"alipay"}, "gateway": {gateway}}
	for k, v := range extra {
		form[k] = v
	}
	return h.post("/api/v1/order", h.token, form)
}

func (h *harness) mustBuy(gateway string, extra url.Values) (orderID string, credential string) {
	h.t.Helper()
	r := h.buy(gateway, extra)
	if r.Status != 200 || r.Code != 0 || r.OrderID == "" {
		h.t.Fatalf("buy %s: %d %+v", gateway, r.Status, r)
	}
	if err := json.Unmarshal(r.Data, &credential); err != nil {
		h.t.Fatalf("buy %s: data %s is not a string", gateway, r.Data)
	}
	return r.OrderID, credential
}

type orderView struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	Amount     int64  `json:"amount"`
	Discount   int64  `json:"discount"`
	Payable    int64  `json:"payable"`
	PaidAmount int64  `json:"paid_amount"`
	CouponID   int64  `json:"coupon_id"`
	Kind       string `json:"kind"`
	Address    *struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Detail string `json:"detail"`
	} `json:"address"`
	Items []struct {
		Name         string `json:"name"`
		UnitPrice    int64  `json:"unit_price"`
		Count        int64  `json:"count"`
		StandardID   int64  `json:"standard_id"`
		SchemeID     int64  `json:"scheme_id"`
		Remarks      string `json:"remarks"`
		DeliveryTime string `json:"delivery_time"`
	} `json:"items"`
	Payments []struct {
		ID             int64  `json:"id"`
		OutTradeNo     string `json:"out_trade_no"`
		Status         string `json:"status"`
		Amount         int64  `json:"amount"`
		ChannelTradeNo string `json:"channel_trade_no"`
	} `json:"payments"`
}

func (h *harness) order(id string) orderView {
	h.t.Helper()
	r := h.get("/api/v1/orders/"+id, h.token)
	if r.Status != 200 {
		h.t.Fatalf("order %s: %d %s", id, r.Status, r.Message)
	}
	var o orderView
	if err := json.Unmarshal(r.Data, &o); err != nil {
		h.t.Fatal(err)
	}
	return o
}

// lastOutTradeNo is the newest attempt of an order.
func (h *harness) lastOutTradeNo(id string) string {
	h.t.Helper()
	o := h.order(id)
	if len(o.Payments) == 0 {
		h.t.Fatalf("order %s has no payments", id)
	}
	return o.Payments[len(o.Payments)-1].OutTradeNo
}

// simulatorPay asks a channel's simulator to pay an attempt (result success
// or fail, "" for success): its status, its JSON answer, and the raw body.
func (h *harness) simulatorPay(channel, outTradeNo, result string) (int, map[string]any, string) {
	h.t.Helper()
	form := url.Values{"out_trade_no": {outTradeNo}}
	if result != "" {
		form.Set("result", result)
	}
	req, _ := http.NewRequest("POST", h.url+"/sandbox/"+channel+"/pay", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, string(raw)
}

// sandboxPay has the Alipay simulator pay an attempt, which must work; it
// returns what cashier replied to the simulator's notification.
func (h *harness) sandboxPay(outTradeNo, result string) map[string]any {
	h.t.Helper()
	status, out, raw := h.simulatorPay("alipay", outTradeNo, result)
	if status != 200 || out == nil {
		h.t.Fatalf("sandbox pay %s: %d %s", outTradeNo, status, raw)
	}
	return out
}

// trySandboxPay asks the Alipay simulator to pay and returns its status and body.
func (h *harness) trySandboxPay(outTradeNo string) (int, string) {
	h.t.Helper()
	status, _, raw := h.simulatorPay("alipay", outTradeNo, "")
	return status, raw
}

func (h *harness) platformKey() *rsa.PrivateKey {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.app.Config.SandboxDir(), "alipay_platform_private.pem"))
	if err != nil {
		h.t.Fatal(err)
	}
	k, err := pemkey.ParseRSAPrivateKey(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

// alipayNotification is a TRADE_SUCCESS notification for an attempt, as Alipay
// sends it, with fields overridden by over ("" deletes a field).
func (h *harness) alipayNotification(outTradeNo, amount string, over map[string]string) map[string]string {
	p := map[string]string{
		"seller_id":   (&alipaysim.Alipay{PlatformKey: h.platformKey()}).SellerID(),
		"notify_time": "2026-11-23 18:00:00", "notify_type": "trade_status_sync", "notify_id": "n" + outTradeNo,
		"app_id": alipaysim.AppID, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
		"trade_no": "2026112322001400000000000001", "out_trade_no": outTradeNo, "trade_status": "TRADE_SUCCESS",
		"total_amount": amount, "receipt_amount": amount, "buyer_pay_amount": amount, "subject": "Starter pack 60 gold",
		"gmt_create": "2026-11-23 17:59:00", "gmt_payment": "2026-11-23 17:59:30",
	}
	for k, v := range over {
		if v == "" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

// signAlipay signs params as Alipay signs notifications: every field but sign
// and sign_type, sorted, k=v joined by &, SHA256withRSA — written here from the
// protocol, independently of the channel's code.
func signAlipay(t testing.TB, key *rsa.PrivateKey, p map[string]string) url.Values {
	var keys []string
	for k, v := range p {
		if k != "sign" && k != "sign_type" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + p[k])
	}
	sum := sha256.Sum256([]byte(b.String()))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	for k, val := range p {
		v.Set(k, val)
	}
	v.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return v
}

// notify posts a notification body to cashier's Alipay notify endpoint.
func (h *harness) notify(body string) (int, string) {
	h.t.Helper()
	resp, err := http.Post(h.url+"/api/v1/order/notify/alipay", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// count counts rows of a table straight from the store.
func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.app.Store.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// inboundOutcomes lists the outcomes of the recorded notifications, oldest first.
func (h *harness) inboundOutcomes() []string {
	h.t.Helper()
	rows, err := h.app.Store.SQL().Query("SELECT outcome FROM inbound_messages ORDER BY id")
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func (h *harness) events(typ string) int {
	h.t.Helper()
	var n int
	q := "SELECT COUNT(*) FROM events WHERE type = '" + typ + "'"
	if err := h.app.Store.SQL().QueryRow(q).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

var _ = cashier.OrderPaid

var (
	otherOnce sync.Once
	otherRSA  *rsa.PrivateKey
)

// otherKey is a real RSA key that is not Alipay's: what a forger has.
func (h *harness) otherKey() *rsa.PrivateKey {
	otherOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			h.t.Fatal(err)
		}
		otherRSA = k
	})
	return otherRSA
}

// lastOutTradeNoAs is lastOutTradeNo for an order of the token's user.
func (h *harness) lastOutTradeNoAs(id, token string) string {
	h.t.Helper()
	r := h.get("/api/v1/orders/"+id, token)
	var o orderView
	if err := json.Unmarshal(r.Data, &o); err != nil || len(o.Payments) == 0 {
		h.t.Fatalf("order %s: %d %s", id, r.Status, r.Data)
	}
	return o.Payments[len(o.Payments)-1].OutTradeNo
}

// writeTemp writes a file in t's temporary directory and returns its path.
func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// setSection sets a channel's section of the configuration, as the file
// would have it.
func setSection(c *app.Config, channel, section string) {
	if c.Channels == nil {
		c.Channels = map[string]json.RawMessage{}
	}
	c.Channels[channel] = json.RawMessage(section)
}

// wechatSim is the running WeChat Pay simulator.
func (h *harness) wechatSim() *wechatsim.WeChat {
	h.t.Helper()
	sim, ok := h.app.Simulators["wechat"].(*wechatsim.WeChat)
	if !ok {
		h.t.Fatal("no WeChat Pay simulator runs")
	}
	return sim
}
