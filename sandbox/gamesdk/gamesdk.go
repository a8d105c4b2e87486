// Package gamesdk is what the game SDK simulators (Yijie, QuickSDK) share:
// the game's ticket, a small "game SDK checkout" page, POST
// /sandbox/{channel}/pay, and callbacks sent again until cashier
// acknowledges them, as the SDKs' servers do. Each simulator says how its
// callback is signed and forged.
package gamesdk

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"cashier/sandbox"
)

// Ticket is what cashier handed the game for an attempt.
type Ticket struct {
	OrderID   string `json:"orderid"`
	Price     int64  `json:"price"` // fen
	Title     string `json:"title"`
	NotifyURL string `json:"notify_url"`
}

// Callback is one payment the simulated SDK reports.
type Callback struct {
	Ticket  Ticket
	TradeNo string // the SDK's order number
	Paid    bool
	Test    bool // QuickSDK's is_test
	At      time.Time
}

// Protocol is how one SDK's server speaks.
type Protocol struct {
	Name    string // the channel: "yijie"
	Title   string // in pages: "Yijie"
	Accent  template.CSS
	Message func(c Callback) (*sandbox.Message, error) // the signed callback
	Forge   func(m *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error)
	// Acknowledged says whether cashier's reply stops the resends.
	Acknowledged func(reply string) bool
}

// resendAfter is when an unacknowledged callback is sent again, after the
// first: the SDKs retry for a day or so.
var resendAfter = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 12 * time.Hour}

// Sim simulates a game SDK's server.
type Sim struct {
	Protocol   Protocol
	Credential func(ctx context.Context, outTradeNo string) (json.RawMessage, error)
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time

	pages   *sandbox.Pages
	resends *sandbox.Resender
	faults  sandbox.Faults
}

// New returns the simulator of p.
func New(p Protocol, env sandbox.Env) *Sim {
	s := &Sim{Protocol: p, Credential: env.Credential, HTTPClient: env.Client(), Logger: env.Logger, Now: env.Now,
		resends: &sandbox.Resender{After: resendAfter, Acknowledged: p.Acknowledged}}
	s.pages = sandbox.NewPages(sandbox.Look{Name: p.Title, Background: "#f4f1ea", Accent: p.Accent}, "sandbox "+p.Name, `
{{define "pay"}}<h1>{{.Title}} game SDK sandbox: checkout</h1>
<p class="amount">¥{{.Amount}}</p>
<dl><dt>Item</dt><dd>{{.Ticket.Title}}</dd><dt>Order</dt><dd>{{.Ticket.OrderID}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/{{.Name}}/pay"><input type="hidden" name="out_trade_no" value="{{.Ticket.OrderID}}"><input type="hidden" name="result" value="success"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="/sandbox/{{.Name}}/pay"><input type="hidden" name="out_trade_no" value="{{.Ticket.OrderID}}"><input type="hidden" name="result" value="fail"><button class="cancel" type="submit">Cancel</button></form>
</div>{{end}}

{{define "result"}}<h1>{{if .Paid}}Payment succeeded{{else}}Payment not made{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>SDK order</dt><dd>{{.ChannelTradeNo}}</dd><dt>Status</dt><dd>{{.Status}}</dd></dl>
<details><summary>For developers: the callback</summary><p>{{if .NotifyStatus}}cashier answered HTTP {{.NotifyStatus}}: {{.NotifyReply}}{{else}}none sent{{end}}</p></details>{{end}}
`)
	return s
}

func (s *Sim) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sim) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Sim) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// Checkout is GET /sandbox/{channel}/checkout?out_trade_no=…: the SDK's
// checkout page for a ticket. Each simulator registers it under its own
// literal route.
func (s *Sim) Checkout() http.HandlerFunc { return s.serveCheckout }

// PayHandler is POST /sandbox/{channel}/pay: form out_trade_no, result,
// and is_test=1 for a test payment.
func (s *Sim) PayHandler() http.HandlerFunc { return s.servePay }

// Faults: a game SDK's server is never called by cashier; nothing to inject.
func (s *Sim) Faults() *sandbox.Faults { return &s.faults }

// Forge is the protocol's.
func (s *Sim) Forge(m *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	return s.Protocol.Forge(m, how)
}

func (s *Sim) ticket(ctx context.Context, outTradeNo string) (*Ticket, error) {
	raw, err := s.Credential(ctx, outTradeNo)
	if err != nil {
		return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "not-found", Reason: fmt.Sprintf("cashier handed out no ticket %q", outTradeNo)}
	}
	var t Ticket
	if err := json.Unmarshal(raw, &t); err != nil || !strings.HasSuffix(t.NotifyURL, "/api/v1/order/notify/"+s.Protocol.Name) {
		return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "not-found", Reason: fmt.Sprintf("%q is not a %s ticket", outTradeNo, s.Protocol.Title)}
	}
	return &t, nil
}

func (s *Sim) serveCheckout(w http.ResponseWriter, r *http.Request) {
	t, err := s.ticket(r.Context(), r.URL.Query().Get("out_trade_no"))
	if err != nil {
		var rf *sandbox.Refusal
		errors.As(err, &rf)
		s.pages.RenderError(w, r, s.log(), rf.Status, rf.Code, rf.Reason)
		return
	}
	s.pages.Render(w, r, s.log(), http.StatusOK, "pay", map[string]any{"Title": s.Protocol.Title, "Name": s.Protocol.Name,
		"Ticket": t, "Amount": fmt.Sprintf("%d.%02d", t.Price/100, t.Price%100)})
}

func (s *Sim) servePay(w http.ResponseWriter, r *http.Request) {
	errorPage := func(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
		s.pages.RenderError(w, r, s.log(), status, code, reason)
	}
	paid, rf := sandbox.ReadPayForm(w, r, "invalid-request")
	if rf != nil {
		sandbox.WriteRefusal(w, r, rf, nil, errorPage)
		return
	}
	ans, err := s.pay(r.Context(), r.PostFormValue("out_trade_no"), paid, r.PostFormValue("is_test") == "1", false)
	if err != nil {
		if !errors.As(err, &rf) {
			rf = &sandbox.Refusal{Status: http.StatusInternalServerError, Code: "internal", Reason: err.Error()}
		}
		sandbox.WriteRefusal(w, r, rf, ans, errorPage)
		return
	}
	if sandbox.WantsHTML(r) {
		s.pages.Render(w, r, s.log(), http.StatusOK, "result", ans)
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, ans)
}

// Pay settles a ticket as the player would in the SDK: paid, its callback
// is sent (and again until acknowledged) unless hold is set; cancelled,
// the SDK's server says nothing.
func (s *Sim) Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	return s.pay(ctx, outTradeNo, paid, false, hold)
}

func (s *Sim) pay(ctx context.Context, outTradeNo string, paid, test, hold bool) (*sandbox.PayAnswer, error) {
	t, err := s.ticket(ctx, outTradeNo)
	if err != nil {
		return nil, err
	}
	if !paid {
		return &sandbox.PayAnswer{OutTradeNo: outTradeNo, Status: "cancelled"}, nil
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1e10))
	c := Callback{Ticket: *t, TradeNo: fmt.Sprintf("%s%010d", s.now().UTC().Format("20060102150405"), n.Int64()), Paid: true, Test: test, At: s.now()}
	msg, err := s.Protocol.Message(c)
	if err != nil {
		return nil, err
	}
	ans := &sandbox.PayAnswer{OutTradeNo: outTradeNo, ChannelTradeNo: c.TradeNo, Status: "paid", Paid: true, Notification: msg}
	if hold {
		return ans, nil
	}
	err = sandbox.Send(ctx, s.client(), ans, false)
	if err != nil || !s.Protocol.Acknowledged(ans.NotifyReply) {
		s.resends.Add(msg, s.now())
	}
	return ans, err
}

// Tick sends again the callbacks cashier did not acknowledge, when due.
func (s *Sim) Tick(ctx context.Context) { s.resends.Tick(ctx, s.now(), s.client(), s.log()) }
