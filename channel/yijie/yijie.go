// Package yijie is the Yijie (易接, 1sdk) game SDK channel. The game pays
// through Yijie's SDK, which routes to whatever store or channel the
// player's phone has; Yijie's server then calls cashier back with a
// callback signed by MD5 over its fields and the sync key. Yijie has no
// server-side refund, close or query API: an unpaid order expires in
// cashier, and money that arrives after that needs a refund outside
// cashier.
package yijie

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cashier"
	"cashier/channel"
)

// TradeNoPrefix starts the out_trade_no of Yijie attempts (the cbi).
const TradeNoPrefix = "YJ"

// Config is what the channel needs from Yijie's console.
type Config struct {
	App     string // the Yijie app id, as the console shows it ({9FCCA9CC-010A0752})
	SyncKey string // the sync key that signs callbacks
}

// Yijie is the Yijie channel.
type Yijie struct {
	cfg Config
	app string // normalised
}

var _ cashier.Channel = (*Yijie)(nil)

// New checks cfg and returns the channel.
func New(cfg Config) (*Yijie, error) {
	if cfg.App == "" || cfg.SyncKey == "" {
		return nil, errors.New("yijie: App and SyncKey are required")
	}
	return &Yijie{cfg: cfg, app: NormaliseID(cfg.App)}, nil
}

// NormaliseID is an app or sdk id as callbacks carry it: lower-case hex
// without braces or dashes.
func NormaliseID(id string) string {
	return strings.ToLower(strings.NewReplacer("{", "", "}", "", "-", "").Replace(strings.TrimSpace(id)))
}

// Name is the channel's name in the order API.
func (y *Yijie) Name() string { return cashier.ChannelYijie }

// Gateways: the SDK decides how the player pays.
func (y *Yijie) Gateways() []string { return nil }

// Ticket is what the order API answers for channel yijie (the seed's
// shape): the game passes orderid to the SDK as its callback info (cbi)
// and price, in fen, as the amount.
type Ticket struct {
	OrderID   string `json:"orderid"`
	Price     int64  `json:"price"`
	Title     string `json:"title"`
	NotifyURL string `json:"notify_url"`
}

// Prepare makes the attempt's ticket: nothing is asked of Yijie.
func (y *Yijie) Prepare(_ context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	return &cashier.Credential{Value: Ticket{OrderID: req.OutTradeNo, Price: req.Amount, Title: req.Subject, NotifyURL: req.NotifyURL}}, nil
}

// Reply is SUCCESS, or FAILURE for Yijie to call again.
func (y *Yijie) Reply(ok bool) cashier.NotifyReply {
	body := "FAILURE"
	if ok {
		body = "SUCCESS"
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(body)}
}

// Fields are a callback's signed fields, in the order the sign covers them.
var Fields = []string{"app", "cbi", "ct", "fee", "pt", "sdk", "ssid", "st", "tcd", "uid", "ver"}

// Sign is a callback's sign: lower-case hex MD5 of "app=…&cbi=…&…&ver=…"
// (Fields, values decoded) with the sync key appended.
func Sign(values url.Values, syncKey string) string {
	var b strings.Builder
	for i, k := range Fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + values.Get(k))
	}
	sum := md5.Sum([]byte(b.String() + syncKey))
	return hex.EncodeToString(sum[:])
}

// VerifyNotification checks a callback, sent as a query (GET) or a form
// (POST): every field present, the sign, then that it is for this app.
// st=1 is a payment; any other st a failed one.
func (y *Yijie) VerifyNotification(_ context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	values, err := url.ParseQuery(msg.Query)
	if err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "the callback's query cannot be read")
	}
	if len(msg.Body) > 0 {
		form, err := url.ParseQuery(string(msg.Body))
		if err != nil {
			return nil, cashier.Errorf(cashier.EINVALID, "the callback's form cannot be read")
		}
		for k, v := range form {
			values[k] = v
		}
	}
	var missing []string
	for _, k := range append(Fields, "sign") {
		if len(values[k]) != 1 || values.Get(k) == "" && k != "ssid" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "not a Yijie callback: %s missing, empty or repeated", strings.Join(missing, ", "))
	}
	want := Sign(values, y.cfg.SyncKey)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(values.Get("sign")))) != 1 {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "the callback's sign does not verify with the sync key")
	}
	if NormaliseID(values.Get("app")) != y.app {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "app %q is not this game's", values.Get("app"))
	}
	fee, err := strconv.ParseInt(values.Get("fee"), 10, 64)
	if err != nil || fee <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "fee %q is not a positive number of fen", channel.Clip(values.Get("fee"), 32))
	}
	n := &cashier.Notification{OutTradeNo: values.Get("cbi"), ChannelTradeNo: values.Get("tcd"), Amount: fee,
		Status: cashier.NotifyFailed, RawStatus: "st=" + values.Get("st")}
	if values.Get("st") == "1" {
		n.Status = cashier.NotifyPaid
	}
	if ms, err := strconv.ParseInt(values.Get("ct"), 10, 64); err == nil && ms > 0 {
		n.PaidAt = time.UnixMilli(ms).UTC()
	}
	return n, nil
}
