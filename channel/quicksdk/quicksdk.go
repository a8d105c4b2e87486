// Package quicksdk is the QuickSDK game SDK channel. The game pays through
// QuickSDK, which routes to the store or channel of the player's phone;
// QuickSDK's server then posts cashier nt_data (the payment's XML, encoded
// with the callback key), sign and md5Sign (MD5 over them and the MD5 key).
// QuickSDK has no server-side refund, close or query API: an unpaid order
// expires in cashier, and money that arrives after that needs a refund
// outside cashier.
package quicksdk

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"cashier"
	"cashier/channel"
	"cashier/internal/chinatime"
)

// TradeNoPrefix starts the out_trade_no of QuickSDK attempts (game_order).
const TradeNoPrefix = "QS"

// maxMessage bounds the decoded payment XML: QuickSDK's are a few hundred
// bytes.
const maxMessage = 8 << 10

// Config is what the channel needs from QuickSDK's console.
type Config struct {
	MD5Key      string // signs md5Sign
	CallbackKey string // encodes nt_data
	// AcceptTest applies test payments (is_test=1), which cost nothing:
	// only the sandbox and test servers should.
	AcceptTest bool
}

// QuickSDK is the QuickSDK channel.
type QuickSDK struct{ cfg Config }

var (
	_ cashier.Channel         = (*QuickSDK)(nil)
	_ cashier.PackageTicketer = (*QuickSDK)(nil)
)

// New checks cfg and returns the channel.
func New(cfg Config) (*QuickSDK, error) {
	if cfg.MD5Key == "" || cfg.CallbackKey == "" {
		return nil, errors.New("quicksdk: MD5Key and CallbackKey are required")
	}
	return &QuickSDK{cfg: cfg}, nil
}

// Name is the channel's name in the order API.
func (q *QuickSDK) Name() string { return cashier.ChannelQuickSDK }

// Gateways: the SDK decides how the player pays.
func (q *QuickSDK) Gateways() []string { return nil }

// TicketsPackages: the ticket carries the package's gold and diamond.
func (q *QuickSDK) TicketsPackages() bool { return true }

// Ticket is what the order API answers for channel quickSdk (the seed's
// shape). price is in fen, as every amount of cashier; QuickSDK's client
// API takes yuan (price/100).
type Ticket struct {
	OrderID   string `json:"orderid"`
	Price     int64  `json:"price"`
	Title     string `json:"title"`
	Gold      int64  `json:"gold"`
	Diamond   int64  `json:"diamond"`
	NotifyURL string `json:"notify_url"`
}

// Prepare makes the attempt's ticket: nothing is asked of QuickSDK.
func (q *QuickSDK) Prepare(_ context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	t := Ticket{OrderID: req.OutTradeNo, Price: req.Amount, Title: req.Subject, NotifyURL: req.NotifyURL}
	if req.Package != nil {
		t.Gold, t.Diamond = req.Package.Gold, req.Package.Diamond
	}
	return &cashier.Credential{Value: t}, nil
}

// Reply is SUCCESS, or FAILED for QuickSDK to call again.
func (q *QuickSDK) Reply(ok bool) cashier.NotifyReply {
	body := "FAILED"
	if ok {
		body = "SUCCESS"
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(body)}
}

// MD5Sign is the callback's md5Sign: lower-case hex MD5 of nt_data, sign
// and the MD5 key, as received.
func MD5Sign(ntData, sign, md5Key string) string {
	sum := md5.Sum([]byte(ntData + sign + md5Key))
	return hex.EncodeToString(sum[:])
}

// Decode reads nt_data: the runs of digits n[i] of "@108@119@…" are the
// bytes n[i] − (key[i mod len] & 0xFF) of the UTF-8 XML.
func Decode(s, key string) ([]byte, error) {
	if key == "" {
		return nil, errors.New("no callback key")
	}
	var out []byte
	n, digits := 0, 0
	flush := func() error {
		if digits == 0 {
			return nil
		}
		b := n - int(key[len(out)%len(key)])
		if b < 0 || b > 255 {
			return fmt.Errorf("value %d at %d does not decode to a byte", n, len(out))
		}
		if len(out) >= maxMessage {
			return fmt.Errorf("longer than %d bytes", maxMessage)
		}
		out = append(out, byte(b))
		n, digits = 0, 0
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			if digits++; digits > 4 {
				return nil, fmt.Errorf("a number of more than 4 digits at %d", i)
			}
			n = n*10 + int(c-'0')
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// message is the payment of a callback's XML.
type message struct {
	IsTest       string `xml:"is_test"`
	Channel      string `xml:"channel"`
	ChannelUID   string `xml:"channel_uid"`
	ChannelOrder string `xml:"channel_order"`
	GameOrder    string `xml:"game_order"`
	OutOrderNo   string `xml:"out_order_no"` // the older <skymoons_message>'s game_order
	OrderNo      string `xml:"order_no"`
	PayTime      string `xml:"pay_time"`
	Amount       string `xml:"amount"`
	Status       string `xml:"status"`
	ExtrasParams string `xml:"extras_params"`
}

// parse reads the XML leniently (real payloads are not always well-formed:
// a bare & in extras_params), under <quicksdk_message> or the older
// <skymoons_message>, without expanding entities beyond XML's own.
func parse(raw []byte) (*message, error) {
	if bytes.Contains(bytes.ToUpper(raw), []byte("<!DOCTYPE")) {
		// QuickSDK sends none; a DTD is someone trying entities on us.
		return nil, errors.New("a document type declaration")
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = false
	var root struct {
		XMLName xml.Name
		Message message `xml:"message"`
	}
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	if root.XMLName.Local != "quicksdk_message" && root.XMLName.Local != "skymoons_message" {
		return nil, fmt.Errorf("root element <%s>, want <quicksdk_message>", channel.Clip(root.XMLName.Local, 32))
	}
	return &root.Message, nil
}

// VerifyNotification checks a callback: md5Sign over the fields as
// received, then nt_data decoded and parsed; game_order names the attempt,
// amount is yuan, status 0 is paid. A test payment is refused unless the
// channel accepts them.
func (q *QuickSDK) VerifyNotification(_ context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	values, err := url.ParseQuery(string(msg.Body))
	if err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "the callback's form cannot be read")
	}
	ntData, sign, md5Sign := values.Get("nt_data"), values.Get("sign"), values.Get("md5Sign")
	if ntData == "" || sign == "" || md5Sign == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "not a QuickSDK callback: nt_data, sign and md5Sign are required")
	}
	want := MD5Sign(ntData, sign, q.cfg.MD5Key)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(md5Sign))) != 1 {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "md5Sign does not verify with the MD5 key")
	}
	raw, err := Decode(ntData, q.cfg.CallbackKey)
	if err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "nt_data: %v", err)
	}
	m, err := parse(raw)
	if err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "nt_data is not a QuickSDK message: %v", err)
	}
	if m.GameOrder == "" {
		m.GameOrder = m.OutOrderNo
	}
	if strings.TrimSpace(m.GameOrder) == "" || m.Amount == "" || m.Status == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "nt_data without game_order, amount or status")
	}
	if m.IsTest == "1" && !q.cfg.AcceptTest {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "a test payment (is_test=1): not accepted here (quickSdk.accept_test is false)")
	}
	amount, err := cashier.ParseYuan(strings.TrimSpace(m.Amount))
	if err != nil || amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "amount %q is not a positive number of yuan", channel.Clip(m.Amount, 32))
	}
	n := &cashier.Notification{OutTradeNo: strings.TrimSpace(m.GameOrder), ChannelTradeNo: strings.TrimSpace(m.OrderNo), Amount: amount,
		Status: cashier.NotifyFailed, RawStatus: "status=" + channel.Clip(m.Status, 16)}
	if strings.TrimSpace(m.Status) == "0" {
		n.Status = cashier.NotifyPaid
	}
	if t, err := chinatime.Parse("2006-01-02 15:04:05", strings.TrimSpace(m.PayTime)); err == nil {
		n.PaidAt = t.UTC()
	}
	return n, nil
}
