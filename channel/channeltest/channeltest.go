// Package channeltest is the conformance suite every channel of cashier's
// list runs against its own simulator, through a whole cashier serving HTTP
// on loopback, on SQLite and on PostgreSQL: create an order and pay it at
// the simulator through every gateway; the same notification twenty times at
// once; forged and tampered notifications; and the query, close and refund
// capabilities and the error codes of the cashier.Channel contract. A
// channel gets all of it by being on the list.
package channeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier"
	"cashier/api"
	"cashier/app"
	"cashier/channel"
	"cashier/sandbox"
	"cashier/sqlstore/storetest"
)

// Run runs the suite for each channel of specs named in only (every one when
// only is empty), in each of its sandbox variants, on each database. specs
// is the list cashier is built with: Run(t, app.Channels()).
func Run(t *testing.T, specs []channel.Spec, only ...string) {
	keys := sandboxKeys(t, specs)
	for _, spec := range specs {
		if len(only) > 0 && !slices.Contains(only, spec.Name) {
			continue
		}
		variants := spec.SandboxVariants
		if len(variants) == 0 {
			variants = []string{`{"sandbox": true}`}
		}
		for i, variant := range variants {
			t.Run(fmt.Sprintf("%s/variant%d", spec.Name, i+1), func(t *testing.T) {
				// Mostly waiting for River's scheduler: the channels run
				// side by side.
				t.Parallel()
				storetest.Dialects(t, func(t *testing.T, dsn string) {
					t.Parallel()
					if strings.HasPrefix(dsn, "postgres") {
						// Side by side, the cashiers share one server's connections.
						if strings.Contains(dsn, "?") {
							dsn += "&pool_max_conns=8"
						} else {
							dsn += "?pool_max_conns=8"
						}
					}
					c := start(t, specs, spec, variant, dsn, keys)
					t.Run("listed to operators", c.listed)
					t.Run("every gateway: create, pay at the simulator, paid once", c.payEveryGateway)
					t.Run("the same notification 20 times at once", c.concurrentDuplicates)
					t.Run("forged, tampered and misdirected notifications", c.forgeries)
					t.Run("unverifiable bodies", c.garbage)
					t.Run("query", c.query)
					t.Run("close", c.close)
					t.Run("refund", c.refund)
					t.Run("gateway errors", c.gatewayErrors)
					t.Run("pay again, then cancel", c.repayAndCancel)
					t.Run("a lost notification found by polling", c.lostNotification)
					t.Run("purchases the app verifies", c.storePurchases)
					// Last: it moves the clock past every order's expiry.
					t.Run("expiry", c.expiry)
				})
			})
		}
	}
}

// sandboxKeys makes the simulators' keys and secrets once, in a directory
// every cashier under test starts with a copy of: RSA keys take a while to
// make.
func sandboxKeys(t *testing.T, specs []channel.Spec) string {
	t.Helper()
	dir := t.TempDir()
	for _, s := range specs {
		if _, _, err := s.Simulator(nil, sandbox.Env{Dir: dir, PublicURL: "http://127.0.0.1"}); err != nil {
			t.Fatalf("%s's simulator: %v", s.Name, err)
		}
	}
	return dir
}

// cashierUnderTest is one cashier with one sandboxed channel.
type cashierUnderTest struct {
	t      *testing.T
	app    *app.App
	url    string
	token  string
	name   string
	prefix string
	ch     cashier.Channel
	sim    sandbox.Simulator
	clock  *clock
}

// clock is the time of the cashier under test, its jobs and its simulators:
// tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// start boots cashier with every channel of specs sandboxed, spec's with
// section variant, on dsn, serving on loopback with its jobs working.
func start(t *testing.T, specs []channel.Spec, spec channel.Spec, variant, dsn, keys string) *cashierUnderTest {
	t.Helper()
	name := spec.Name
	data := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(filepath.Join(data, "sandbox"), os.DirFS(keys)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := app.Config{Data: data, DB: dsn, PublicURL: base,
		Channels: map[string]json.RawMessage{name: json.RawMessage(variant)}}
	clk := &clock{t: time.Now()}
	a, err := app.New(context.Background(), cfg, app.Options{Logger: log, Channels: specs, Now: clk.Now, JobsUseNow: true,
		JobPollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Stop(ctx)
		a.Close()
	})
	token, err := api.IssueToken(a.JWTSecret, app.DemoUser, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := a.Checkout.Channel(name)
	if err != nil {
		t.Fatalf("%s is not enabled: %v", name, err)
	}
	sim := a.Simulators[name]
	if sim == nil {
		t.Fatalf("%s has no simulator", name)
	}
	return &cashierUnderTest{t: t, app: a, url: base, token: token, name: name, prefix: spec.TradeNoPrefix, ch: ch, sim: sim, clock: clk}
}

// envelope is the order API's answer.
type envelope struct {
	Status  int             `json:"-"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	OrderID string          `json:"order_id"`
	Data    json.RawMessage `json:"data"`
}

func (c *cashierUnderTest) call(t *testing.T, method, path, auth, contentType, body string) envelope {
	t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s %s: %d %q is not an envelope", method, path, resp.StatusCode, raw)
	}
	e.Status = resp.StatusCode
	return e
}

// buy creates a package order paid through gateway.
func (c *cashierUnderTest) buy(t *testing.T, gateway string) envelope {
	t.Helper()
	form := url.Values{"source": {"conformance"}, "package_id": {"1"}, "channel": {c.name}, "gateway": {gateway}}
	return c.call(t, "POST", "/api/v1/order", c.token, "application/x-www-form-urlencoded", form.Encode())
}

// mustBuy creates an order and returns it with its attempt's out_trade_no.
func (c *cashierUnderTest) mustBuy(t *testing.T, gateway string) (orderID, outTradeNo string) {
	t.Helper()
	r := c.buy(t, gateway)
	if r.Status != 200 || r.OrderID == "" {
		t.Fatalf("create an order through %s/%s: %d %s", c.name, gateway, r.Status, r.Message)
	}
	o := c.order(t, r.OrderID)
	return r.OrderID, o.Payments[len(o.Payments)-1].OutTradeNo
}

type order struct {
	Status     string `json:"status"`
	Payable    int64  `json:"payable"`
	PaidAmount int64  `json:"paid_amount"`
	Refunded   int64  `json:"refunded_amount"`
	Payments   []struct {
		OutTradeNo     string `json:"out_trade_no"`
		ChannelTradeNo string `json:"channel_trade_no"`
		Status         string `json:"status"`
		Amount         int64  `json:"amount"`
	} `json:"payments"`
}

// buyPaid places an order through the channel's first gateway and pays it
// at the simulator, which keeps its notification back if hold is set.
func (c *cashierUnderTest) buyPaid(t *testing.T, hold bool) (orderID, outTradeNo string, ans *sandbox.PayAnswer) {
	t.Helper()
	orderID, outTradeNo = c.mustBuy(t, gateways(c.ch)[0])
	ans, err := c.sim.Pay(context.Background(), outTradeNo, true, hold)
	if err != nil || (hold && ans.Notification == nil) {
		t.Fatalf("pay %s at the simulator: %v %+v", outTradeNo, err, ans)
	}
	return orderID, outTradeNo, ans
}

func (c *cashierUnderTest) order(t *testing.T, id string) order {
	t.Helper()
	r := c.call(t, "GET", "/api/v1/orders/"+id, c.token, "", "")
	var o order
	if r.Status != 200 || json.Unmarshal(r.Data, &o) != nil || len(o.Payments) == 0 {
		t.Fatalf("order %s: %d %s", id, r.Status, r.Data)
	}
	return o
}

// trade names an order's last attempt as cashier names it to its channel.
func (c *cashierUnderTest) trade(t *testing.T, id string) cashier.Trade {
	t.Helper()
	o := c.order(t, id)
	p := o.Payments[len(o.Payments)-1]
	return cashier.Trade{OutTradeNo: p.OutTradeNo, ChannelTradeNo: p.ChannelTradeNo}
}

// unknownTrade is a trade no channel has.
var unknownTrade = cashier.Trade{OutTradeNo: "NOSUCH" + strings.Repeat("0", 20), ChannelTradeNo: "NOSUCH" + strings.Repeat("9", 20)}

// post sends a notification to cashier as the channel would, and returns
// cashier's reply.
func (c *cashierUnderTest) post(t *testing.T, m *sandbox.Message) cashier.NotifyReply {
	t.Helper()
	status, reply, err := sandbox.Deliver(context.Background(), http.DefaultClient, m)
	if err != nil {
		t.Fatal(err)
	}
	return cashier.NotifyReply{Status: status, Body: []byte(reply)}
}

// acknowledges reports whether r is the channel's "received" to m.
func (c *cashierUnderTest) acknowledges(r cashier.NotifyReply, m *sandbox.Message) bool {
	return c.isReply(r, m, true)
}

// asksResend reports whether r is the channel's "resend later" to m.
func (c *cashierUnderTest) asksResend(r cashier.NotifyReply, m *sandbox.Message) bool {
	return c.isReply(r, m, false)
}

func (c *cashierUnderTest) isReply(r cashier.NotifyReply, m *sandbox.Message, ok bool) bool {
	want := cashier.ReplyTo(c.ch, &cashier.InboundRequest{Method: "POST", Headers: m.Header, Body: m.Body}, ok)
	return r.Status == want.Status && string(r.Body) == string(want.Body)
}

// outcomes lists the recorded outcomes of an attempt's messages.
func (c *cashierUnderTest) outcomes(t *testing.T, outTradeNo string) []cashier.InboundMessage {
	t.Helper()
	ms, err := c.app.Checkout.InboundMessages(context.Background(), cashier.InboundFilter{OutTradeNo: outTradeNo, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func (c *cashierUnderTest) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	q := query
	for i := range args {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", i+1), 1)
	}
	if c.app.Store.Dialect() != "postgres" {
		q = query
	}
	if err := c.app.Store.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func gateways(ch cashier.Channel) []string {
	if gws := ch.Gateways(); len(gws) > 0 {
		return gws
	}
	return []string{""}
}
