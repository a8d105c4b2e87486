// Package quicksdk simulates QuickSDK's server for cashier's sandbox and
// tests: the game SDK's checkout, and its callbacks (nt_data encoded with
// the callback key, md5Sign with the MD5 key), sent again until cashier
// answers SUCCESS.
package quicksdk

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

	"cashier/internal/chinatime"
	"cashier/sandbox"
	"cashier/sandbox/gamesdk"
)

// encode is QuickSDK's encoding of nt_data and sign: "@" and byte + key
// byte, for every byte.
func encode(plain []byte, key string) string {
	var b strings.Builder
	for i, c := range plain {
		b.WriteString("@" + strconv.Itoa(int(c)+int(key[i%len(key)])))
	}
	return b.String()
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Open starts the simulated QuickSDK: its keys (quickSdk_md5_key.txt,
// quickSdk_callback_key.txt) in env.Dir, and the "quickSdk" section that
// points the channel at it, accepting test payments.
func Open(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	md5File, cbFile := filepath.Join(env.Dir, "quickSdk_md5_key.txt"), filepath.Join(env.Dir, "quickSdk_callback_key.txt")
	md5Key, err := sandbox.Secret(md5File, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	cbKey, err := sandbox.Secret(cbFile, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	// message is the payment XML; amount in yuan.
	message := func(c gamesdk.Callback, fen int64) string {
		test := "0"
		if c.Test {
			test = "1"
		}
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><quicksdk_message><message>" +
			"<is_test>" + test + "</is_test><channel>8888</channel><channel_uid>player-1</channel_uid>" +
			"<game_order>" + c.Ticket.OrderID + "</game_order><order_no>" + c.TradeNo + "</order_no>" +
			"<pay_time>" + chinatime.In(c.At).Format("2006-01-02 15:04:05") + "</pay_time>" +
			fmt.Sprintf("<amount>%d.%02d</amount>", fen/100, fen%100) +
			"<status>0</status><extras_params>role=1&server=2</extras_params></message></quicksdk_message>"
	}
	post := func(notifyURL, xml, md5Key, cbKey string) *sandbox.Message {
		nt := encode([]byte(xml), cbKey)
		sign := encode([]byte(md5Hex(xml)), cbKey)
		v := url.Values{"nt_data": {nt}, "sign": {sign}, "md5Sign": {md5Hex(nt + sign + md5Key)}}
		return &sandbox.Message{URL: notifyURL, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(v.Encode())}
	}
	p := gamesdk.Protocol{Name: "quickSdk", Title: "QuickSDK", Accent: "#1864ab",
		Message: func(c gamesdk.Callback) (*sandbox.Message, error) {
			return post(c.Ticket.NotifyURL, message(c, c.Ticket.Price), string(md5Key), string(cbKey)), nil
		},
		Acknowledged: func(reply string) bool { return reply == "SUCCESS" },
		Forge: func(m *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
			v, err := url.ParseQuery(string(m.Body))
			if err != nil {
				return nil, err
			}
			var plain []byte
			for i, part := range strings.Split(strings.TrimPrefix(v.Get("nt_data"), "@"), "@") {
				n, _ := strconv.Atoi(part)
				plain = append(plain, byte(n-int(cbKey[i%len(cbKey)])))
			}
			xml := string(plain)
			amount := xml[strings.Index(xml, "<amount>")+8 : strings.Index(xml, "</amount>")]
			var yuan, fen int64
			fmt.Sscanf(amount, "%d.%d", &yuan, &fen)
			more := strings.Replace(xml, "<amount>"+amount+"</amount>", fmt.Sprintf("<amount>%d.%02d</amount>", (yuan*100+fen+1)/100, (yuan*100+fen+1)%100), 1)
			out := m.Clone()
			switch how {
			case sandbox.Forged:
				return post(m.URL, xml, "forger's md5 key", string(cbKey)), nil
			case sandbox.Tampered:
				v.Set("nt_data", encode([]byte(more), string(cbKey)))
				out.Body = []byte(v.Encode())
				return out, nil
			case sandbox.OtherAmount:
				return post(m.URL, more, string(md5Key), string(cbKey)), nil
			case sandbox.OtherApp:
				// Another game's callback is signed with that game's keys:
				// to cashier, a forgery.
				return nil, fmt.Errorf("sandbox quickSdk: its keys are per game: %w", sandbox.ErrNoSuchMessage)
			}
			return nil, fmt.Errorf("sandbox quickSdk: cannot make a callback for %s", how)
		},
	}
	section, err := json.Marshal(map[string]any{"md5_key_file": md5File, "callback_key_file": cbFile, "accept_test": true})
	return &Simulator{gamesdk.New(p, env)}, section, err
}

// Simulator is the simulated QuickSDK server.
type Simulator struct{ *gamesdk.Sim }

// Register mounts the simulator's routes:
//
//	GET  /sandbox/quickSdk/checkout?out_trade_no=…  the game SDK's checkout page
//	POST /sandbox/quickSdk/pay                      pays (or cancels) a ticket and sends its callback
func (s *Simulator) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/quickSdk/checkout", s.Checkout())
	mux.HandleFunc("POST /sandbox/quickSdk/pay", s.PayHandler())
}
