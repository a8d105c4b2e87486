package alipay

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cashier/internal/chinatime"

	"cashier"
)

// Pay methods and the product code each requires.
var alipayPayMethods = map[string]string{
	"alipay.trade.app.pay":  "QUICK_MSECURITY_PAY",
	"alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY",
	"alipay.trade.wap.pay":  "QUICK_WAP_WAY",
	// 当面付: the trade is created by the merchant's server call, and the
	// buyer scans its qr_code.
	"alipay.trade.precreate": "FACE_TO_FACE_PAYMENT",
}

// alipayOrder is a verified pay request: an app order string, the query of
// a web/wap pay URL, or a precreate call (whose qr_code is such a URL).
type alipayOrder struct {
	Raw         string // the signed query, as received
	Method      string
	OutTradeNo  string
	TotalAmount string
	Subject     string
	NotifyURL   string
	ReturnURL   string
	ExpiresAt   time.Time // zero: no timeout_express
}

// parseOrder verifies a signed pay request. s may be a whole pay URL: what
// comes before '?' is ignored. The error says what is wrong, for the page.
func (a *Alipay) parseOrder(s string) (*alipayOrder, error) {
	if _, query, ok := strings.Cut(s, "?"); ok {
		s = query
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty order string")
	}
	values, err := url.ParseQuery(s)
	if err != nil {
		return nil, errors.New("order string is not URL-encoded")
	}
	params, err := singleValues(values)
	if err != nil {
		return nil, err
	}
	if r := a.verifyAppRequest(params); r != nil {
		return nil, r
	}
	o := &alipayOrder{Raw: s, Method: params["method"], NotifyURL: params["notify_url"], ReturnURL: params["return_url"]}
	productCode, ok := alipayPayMethods[o.Method]
	if !ok {
		return nil, fmt.Errorf("method %q is not a pay method", o.Method)
	}
	var biz map[string]any
	if err := json.Unmarshal([]byte(params["biz_content"]), &biz); err != nil {
		return nil, errors.New("biz_content is not a JSON object")
	}
	str := func(k string) string { s, _ := biz[k].(string); return s }
	o.OutTradeNo, o.TotalAmount, o.Subject = str("out_trade_no"), str("total_amount"), str("subject")
	switch {
	case o.OutTradeNo == "":
		return nil, errors.New("biz_content has no out_trade_no")
	case o.Subject == "":
		return nil, errors.New("biz_content has no subject")
	case str("product_code") != productCode:
		return nil, fmt.Errorf("product_code %q does not go with %s (want %s)", str("product_code"), o.Method, productCode)
	}
	if fen, err := cashier.ParseYuan(o.TotalAmount); err != nil || fen <= 0 {
		return nil, fmt.Errorf("total_amount %q is not a positive yuan amount", o.TotalAmount)
	}
	for _, u := range []string{o.NotifyURL, o.ReturnURL} {
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("%q is not an http(s) URL", u)
		}
	}
	if te := str("timeout_express"); te != "" {
		sent, err := time.ParseInLocation(alipayTimeLayout, params["timestamp"], chinatime.Location())
		if err != nil {
			return nil, fmt.Errorf("timestamp %q is not yyyy-MM-dd HH:mm:ss", params["timestamp"])
		}
		d, err := parseTimeoutExpress(te)
		if err != nil {
			return nil, err
		}
		o.ExpiresAt = sent.Add(d)
	}
	return o, nil
}

// parseTimeoutExpress reads Alipay's relative timeouts: "90m", "2h", "1d"
// (1m to 15d).
func parseTimeoutExpress(s string) (time.Duration, error) {
	bad := fmt.Errorf("timeout_express %q is not a number of m, h or d between 1m and 15d", s)
	if len(s) < 2 {
		return 0, bad
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 {
		return 0, bad
	}
	var d time.Duration
	switch s[len(s)-1] {
	case 'm':
		d = time.Duration(n) * time.Minute
	case 'h':
		d = time.Duration(n) * time.Hour
	case 'd':
		d = time.Duration(n) * 24 * time.Hour
	default:
		return 0, bad
	}
	if d > 15*24*time.Hour {
		return 0, bad
	}
	return d, nil
}

// errTradeConflict means the trade's state or details forbid the operation.
var errTradeConflict = errors.New("trade conflict")

// openTrade returns the trade for o, creating it as WAIT_BUYER_PAY, as Alipay
// does when the buyer opens it. An out_trade_no reused with other details is
// refused, as Alipay refuses it.
func (a *Alipay) openTrade(o *alipayOrder) (alipayTrade, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.openTradeLocked(o)
	if err != nil {
		return alipayTrade{}, err
	}
	return *t, nil
}

func (a *Alipay) openTradeLocked(o *alipayOrder) (*alipayTrade, error) {
	if a.trades == nil {
		a.trades = make(map[string]*alipayTrade)
	}
	if t, ok := a.trades[o.OutTradeNo]; ok {
		if t.TotalAmount != o.TotalAmount || t.Subject != o.Subject {
			return nil, fmt.Errorf("%w: out_trade_no %s was already used for %s yuan %q", errTradeConflict, o.OutTradeNo, t.TotalAmount, t.Subject)
		}
		// A later attempt with the same details may bring a new notify_url.
		if o.NotifyURL != "" {
			t.NotifyURL = o.NotifyURL
		}
		if o.ReturnURL != "" {
			t.ReturnURL = o.ReturnURL
		}
		return t, nil
	}
	now := a.now()
	t := &alipayTrade{
		OutTradeNo:  o.OutTradeNo,
		TradeNo:     newTradeNo(now),
		TotalAmount: o.TotalAmount,
		Subject:     o.Subject,
		Status:      statusWaitBuyerPay,
		Method:      o.Method,
		NotifyURL:   o.NotifyURL,
		ReturnURL:   o.ReturnURL,
		Created:     now,
	}
	a.trades[o.OutTradeNo] = t
	return t, nil
}

// settleTrade pays (paid=true) or closes the trade of o. Only a trade waiting
// for the buyer can be settled.
func (a *Alipay) settleTrade(o *alipayOrder, paid bool) (alipayTrade, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.openTradeLocked(o)
	if err != nil {
		return alipayTrade{}, err
	}
	switch t.Status {
	case statusSuccess:
		return alipayTrade{}, fmt.Errorf("%w: trade %s is already paid", errTradeConflict, t.OutTradeNo)
	case statusClosed:
		return alipayTrade{}, fmt.Errorf("%w: trade %s is closed", errTradeConflict, t.OutTradeNo)
	}
	if paid {
		t.Status, t.Paid = statusSuccess, a.now()
	} else {
		t.Status, t.Closed = statusClosed, a.now()
	}
	return *t, nil
}

func (a *Alipay) lookupTrade(outTradeNo string) (alipayTrade, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.trades[outTradeNo]
	if !ok {
		return alipayTrade{}, false
	}
	return *t, true
}

// newTradeNo makes a trade_no shaped like Alipay's: the Beijing date and 20
// digits, 28 in all.
func newTradeNo(now time.Time) string {
	return now.In(chinatime.Location()).Format("20060102") + randomDigits(20)
}

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			// crypto/rand does not fail on supported platforms.
			panic(err)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}
