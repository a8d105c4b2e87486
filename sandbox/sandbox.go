// Package sandbox holds what the channel simulators share. A simulator (one
// package per channel under sandbox/) is the far side of its channel, run
// inside cashier in the demo and in tests: it checks what cashier signed,
// shows pay pages, and sends the notifications the channel sends, signed the
// way the channel signs them, so that cashier's real verification code runs.
//
// Shared here: the Simulator interface that cashier and the conformance suite
// (channel/channeltest) drive every simulator through, the answer of POST
// /sandbox/{channel}/pay, notification delivery, fault injection, the pages'
// frame, and the generated secrets.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Simulator is the far side of one channel.
type Simulator interface {
	// Register mounts the simulator's routes, all under /sandbox/{channel}/.
	Register(mux *http.ServeMux)
	// Pay settles an attempt as its buyer would at the channel, paid or (paid
	// false) not, and sends cashier the channel's notification about it,
	// unless hold is set: the notification is in the answer either way (nil
	// when the channel sends none). A *Refusal says why it cannot.
	Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*PayAnswer, error)
	// Forge returns a copy of a notification that cashier must not believe.
	Forge(n *Message, how Forgery) (*Message, error)
	// Faults are the failures injected into the simulated servers.
	Faults() *Faults
}

// RefundSettler is a simulator whose refunds stay in progress, as its
// channel's do for a while, until they are settled.
type RefundSettler interface {
	// SettlePendingRefunds settles every refund in progress as succeeded,
	// sends their notifications, and says how many it settled.
	SettlePendingRefunds(ctx context.Context) (int, error)
}

// Ticker is a simulator with work of its own as time passes (resending the
// notifications cashier did not acknowledge, as its channel does): Tick does
// what is due by the simulator's clock. Cashier ticks it every few seconds;
// tests tick it after moving the clock.
type Ticker interface {
	Tick(ctx context.Context)
}

// Forgery is how Forge spoils a notification.
type Forgery int

const (
	// Forged is signed with a key that is not the channel's.
	Forged Forgery = iota
	// Tampered has a signed value (the amount, the status) changed after
	// signing.
	Tampered
	// OtherAmount is genuinely signed by the channel, for one fen more than
	// the trade: the channel speaking of a payment cashier did not ask for.
	OtherAmount
	// OtherApp is genuinely signed by the channel, for another merchant app:
	// what a channel signing every merchant's messages with one key (as
	// AdaPay does) may send to anyone.
	OtherApp
	// OtherTrade is genuinely signed by the channel, about another trade
	// (another merchant's) that reused the out_trade_no: only simulators of
	// channels that bind their trade numbers (cashier.TradeNoBinder) make it.
	OtherTrade
)

func (f Forgery) String() string {
	switch f {
	case Tampered:
		return "tampered"
	case OtherAmount:
		return "another amount"
	case OtherApp:
		return "another app"
	case OtherTrade:
		return "another trade"
	}
	return "forged"
}

// ErrNoSuchMessage is Forge's answer when the channel never sends such a
// message (OtherApp for a channel whose keys are per app, as QuickSDK's):
// there is nothing genuine to misdirect.
var ErrNoSuchMessage = errors.New("the channel sends no such message")

// OtherAppID is the app (or merchant) Forge's OtherApp messages are for.
const OtherAppID = "2099000000000000"

// Message is a notification as the channel posts it.
type Message struct {
	URL    string // cashier's notify URL
	Header http.Header
	Body   []byte
}

// Clone returns a copy of m that shares nothing with it.
func (m *Message) Clone() *Message {
	return &Message{URL: m.URL, Header: m.Header.Clone(), Body: append([]byte(nil), m.Body...)}
}

// PayAnswer is the answer of Pay, and the JSON answer of POST
// /sandbox/{channel}/pay.
type PayAnswer struct {
	OutTradeNo     string `json:"out_trade_no"`
	ChannelTradeNo string `json:"channel_trade_no,omitempty"` // the channel's number for the trade
	Status         string `json:"status"`                     // the trade's status in the channel's words
	Paid           bool   `json:"paid"`
	NotifyStatus   int    `json:"notify_status"` // cashier's HTTP status; 0: nothing sent
	NotifyReply    string `json:"notify_reply"`  // cashier's answer, as the channel reads it
	Note           string `json:"note,omitempty"`
	Error          string `json:"error,omitempty"`
	// Notification is what the channel sent (or, held, would send).
	Notification *Message `json:"-"`
}

// Refusal is a request a simulator turns down, as its channel would: the
// HTTP status of the answer, the channel's code, and why in words.
type Refusal struct {
	Status int
	Code   string
	Reason string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Code, r.Reason) }

// Opener starts a channel's simulator. section is the channel's section of
// the configuration ({"sandbox": true, …}, or empty): the simulator reads
// what it needs from it (WeChat Pay's api_version) and ignores the rest. It
// generates its keys and secrets into env.Dir, in the shape a real
// configuration takes them, and answers with the channel's section that
// points at it: key files, ids, and its URL under env.PublicURL.
type Opener func(section json.RawMessage, env Env) (sim Simulator, channelSection json.RawMessage, err error)

// Env is what starting a simulator needs.
type Env struct {
	Dir       string // keys and secrets
	PublicURL string // cashier's base URL: the simulator lives under PublicURL/sandbox/{channel}
	// Credential returns what cashier handed out for an attempt (JSON), so
	// that the simulator can pay by out_trade_no as the buyer's app would.
	Credential func(ctx context.Context, outTradeNo string) (json.RawMessage, error)
	HTTPClient *http.Client // delivers notifications; nil: one with a 10s timeout
	Logger     *slog.Logger
	Now        func() time.Time
}

// Client is env's HTTP client, or one with a 10s timeout.
func (env Env) Client() *http.Client {
	if env.HTTPClient != nil {
		return env.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// EncodeForm is fields as a form body, sorted by key as url.Values encodes.
func EncodeForm(fields map[string]string) string {
	v := make(url.Values, len(fields))
	for k, val := range fields {
		v.Set(k, val)
	}
	return v.Encode()
}
