// Package yijie simulates Yijie's (易接) SDK server for cashier's sandbox
// and tests: the game SDK's checkout, and its callbacks signed with the
// sync key, sent again until cashier answers SUCCESS.
package yijie

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"cashier/sandbox"
	"cashier/sandbox/gamesdk"
)

// App is the simulated game's Yijie app id, as Yijie's console shows it;
// SDK the simulated SDK channel's id.
const (
	App = "{9FCCA9CC-010A0752}"
	SDK = "{4FF036A1-3254EAFE}"
)

// fields are the callback's signed fields, in the order of the sign.
var fields = []string{"app", "cbi", "ct", "fee", "pt", "sdk", "ssid", "st", "tcd", "uid", "ver"}

// sign is Yijie's MD5 over the fields and the sync key.
func sign(v url.Values, key string) string {
	parts := make([]string, len(fields))
	for i, k := range fields {
		parts[i] = k + "=" + v.Get(k)
	}
	sum := md5.Sum([]byte(strings.Join(parts, "&") + key))
	return hex.EncodeToString(sum[:])
}

// callbackID is an id as Yijie's callbacks carry it.
func callbackID(id string) string {
	return strings.ToLower(strings.NewReplacer("{", "", "}", "", "-", "").Replace(id))
}

// Open starts the simulated Yijie: its sync key (yijie_sync_key.txt) in
// env.Dir, and the "yijie" section that points the channel at it.
func Open(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	keyFile := filepath.Join(env.Dir, "yijie_sync_key.txt")
	key, err := sandbox.Secret(keyFile, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	callback := func(c gamesdk.Callback, app string, fee int64, key string) *sandbox.Message {
		v := url.Values{"app": {callbackID(app)}, "cbi": {c.Ticket.OrderID}, "ct": {strconv.FormatInt(c.At.UnixMilli(), 10)},
			"fee": {strconv.FormatInt(fee, 10)}, "pt": {strconv.FormatInt(c.At.UnixMilli()-30000, 10)}, "sdk": {callbackID(SDK)},
			"ssid": {"GPA." + c.TradeNo}, "st": {"1"}, "tcd": {c.TradeNo}, "uid": {"player-1"}, "ver": {"1"}}
		v.Set("sign", sign(v, key))
		return &sandbox.Message{URL: c.Ticket.NotifyURL,
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(v.Encode())}
	}
	p := gamesdk.Protocol{Name: "yijie", Title: "Yijie", Accent: "#d9480f",
		Message: func(c gamesdk.Callback) (*sandbox.Message, error) {
			return callback(c, App, c.Ticket.Price, string(key)), nil
		},
		Acknowledged: func(reply string) bool { return reply == "SUCCESS" },
		Forge: func(m *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
			v, err := url.ParseQuery(string(m.Body))
			if err != nil {
				return nil, err
			}
			fee, _ := strconv.ParseInt(v.Get("fee"), 10, 64)
			switch how {
			case sandbox.Forged:
				v.Set("sign", sign(v, "forger's key"))
			case sandbox.Tampered:
				v.Set("fee", strconv.FormatInt(fee+1, 10))
			case sandbox.OtherAmount:
				v.Set("fee", strconv.FormatInt(fee+1, 10))
				v.Set("sign", sign(v, string(key)))
			case sandbox.OtherApp:
				v.Set("app", callbackID("{00000000-2099FFFF}"))
				v.Set("sign", sign(v, string(key)))
			default:
				return nil, fmt.Errorf("sandbox yijie: cannot make a callback for %s", how)
			}
			out := m.Clone()
			out.Body = []byte(v.Encode())
			return out, nil
		},
	}
	section, err := json.Marshal(map[string]string{"app": App, "sync_key_file": keyFile})
	return &Simulator{gamesdk.New(p, env)}, section, err
}

// Simulator is the simulated Yijie server.
type Simulator struct{ *gamesdk.Sim }

// Register mounts the simulator's routes:
//
//	GET  /sandbox/yijie/checkout?out_trade_no=…  the game SDK's checkout page
//	POST /sandbox/yijie/pay                      pays (or cancels) a ticket and sends its callback
func (s *Simulator) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/yijie/checkout", s.Checkout())
	mux.HandleFunc("POST /sandbox/yijie/pay", s.PayHandler())
}
