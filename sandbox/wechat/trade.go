package wechat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"cashier/internal/chinatime"
)

// Trade states, WeChat Pay's words.
const (
	wechatNotPay   = "NOTPAY"
	wechatSuccess  = "SUCCESS"
	wechatClosed   = "CLOSED"
	wechatPayError = "PAYERROR"
	// wechatRefunded is how queries show a paid trade with refunds; the
	// trade itself stays SUCCESS.
	wechatRefunded = "REFUND"
)

// Trade types, v2's words (v3 answers them too).
const (
	wechatAPP    = "APP"
	wechatNative = "NATIVE"
	wechatMWEB   = "MWEB"
)

// wechatV3Kinds maps the v3 transaction paths to trade types.
var wechatV3Kinds = map[string]string{"app": wechatAPP, "native": wechatNative, "h5": wechatMWEB}

// wechatTrade is one trade as the simulated WeChat Pay knows it.
type wechatTrade struct {
	OutTradeNo    string
	PrepayID      string
	Token         string // the pr= of a NATIVE code_url
	TransactionID string // set once paid
	Version       int    // the API version that placed it
	TradeType     string
	Body          string
	TotalFee      int64
	NotifyURL     string
	SignType      string // v2: how the order was signed, and so its notification
	State         string
	Created       time.Time
	Paid          time.Time
	ExpiresAt     time.Time // zero: no time_expire
	Refunded      int64     // fen, the refunds not closed
}

// queryState is the trade_state queries answer: REFUND once a paid trade
// has refunds, as WeChat Pay answers it.
func (t wechatTrade) queryState() string {
	if t.State == wechatSuccess && t.Refunded > 0 {
		return wechatRefunded
	}
	return t.State
}

// wechatOrder is an order as a unifiedorder call (either version) places it.
type wechatOrder struct {
	version    int
	outTradeNo string
	tradeType  string
	body       string
	totalFee   int64
	notifyURL  string
	signType   string
	expiresAt  time.Time
}

// wechatRefusal is a business refusal, in v2's err_code words; the v3
// handlers translate them (wechatV3Refusal).
type wechatRefusal struct {
	code, des string
}

func (r *wechatRefusal) Error() string { return r.code + ": " + r.des }

// Refusals, v2's err_code and err_code_des.
var (
	wechatErrOrderPaid      = &wechatRefusal{"ORDERPAID", "该订单已支付"}
	wechatErrOrderClosed    = &wechatRefusal{"ORDERCLOSED", "订单已关闭"}
	wechatErrOrderNotExist  = &wechatRefusal{"ORDERNOTEXIST", "订单不存在"}
	wechatErrOutTradeNoUsed = &wechatRefusal{"OUT_TRADE_NO_USED", "商户订单号重复"}
)

func wechatParamError(format string, args ...any) *wechatRefusal {
	return &wechatRefusal{"PARAM_ERROR", fmt.Sprintf(format, args...)}
}

// placeOrder records an order, or answers the trade already placed with the
// same out_trade_no and the same contents, as WeChat Pay answers the same
// prepay_id to a repeated unifiedorder.
func (w *WeChat) placeOrder(o wechatOrder) (wechatTrade, *wechatRefusal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.trades[o.outTradeNo]; ok {
		switch {
		case t.State == wechatSuccess:
			return wechatTrade{}, wechatErrOrderPaid
		case t.State == wechatClosed:
			return wechatTrade{}, wechatErrOrderClosed
		case t.Version != o.version || t.TradeType != o.tradeType || t.Body != o.body || t.TotalFee != o.totalFee:
			return wechatTrade{}, wechatErrOutTradeNoUsed
		}
		return *t, nil
	}
	now := w.now()
	t := &wechatTrade{
		OutTradeNo: o.outTradeNo,
		PrepayID:   wechatPrepayID(now),
		Version:    o.version,
		TradeType:  o.tradeType,
		Body:       o.body,
		TotalFee:   o.totalFee,
		NotifyURL:  o.notifyURL,
		SignType:   o.signType,
		State:      wechatNotPay,
		Created:    now,
		ExpiresAt:  o.expiresAt,
	}
	if t.TradeType == wechatNative {
		t.Token = wechatRandomString(10)
	}
	if w.trades == nil {
		w.trades = make(map[string]*wechatTrade)
		w.byPrepay = make(map[string]string)
		w.byToken = make(map[string]string)
	}
	w.trades[t.OutTradeNo] = t
	w.byPrepay[t.PrepayID] = t.OutTradeNo
	if t.Token != "" {
		w.byToken[t.Token] = t.OutTradeNo
	}
	return *t, nil
}

// trade returns a copy of the trade out_trade_no.
func (w *WeChat) trade(outTradeNo string) (wechatTrade, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.trades[outTradeNo]
	if !ok {
		return wechatTrade{}, false
	}
	return *t, true
}

// outTradeNoBy finds a trade's out_trade_no by its prepay_id or code_url token.
func (w *WeChat) outTradeNoBy(prepayID, token string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if prepayID != "" {
		otn, ok := w.byPrepay[prepayID]
		return otn, ok
	}
	otn, ok := w.byToken[token]
	return otn, ok
}

// settleTrade pays the trade (paid) or fails it: a failed v2 payment is
// PAYERROR, which WeChat Pay notifies; a v3 one is closed unpaid, which it
// does not.
func (w *WeChat) settleTrade(outTradeNo string, paid bool, notifyVersion int) (wechatTrade, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.trades[outTradeNo]
	if !ok {
		return wechatTrade{}, wechatErrOrderNotExist
	}
	if t.State != wechatNotPay && t.State != wechatPayError {
		return wechatTrade{}, fmt.Errorf("trade %s is %s: there is nothing to pay", outTradeNo, t.State)
	}
	now := w.now()
	switch {
	case !paid && notifyVersion == 3:
		t.State = wechatClosed
	case !paid:
		t.State = wechatPayError
	case !t.ExpiresAt.IsZero() && now.After(t.ExpiresAt):
		return wechatTrade{}, fmt.Errorf("trade %s expired at %s: it can no longer be paid", outTradeNo, t.ExpiresAt.In(chinatime.Location()).Format(time.DateTime))
	default:
		t.State = wechatSuccess
		t.Paid = now
		t.TransactionID = wechatTransactionID(now)
	}
	return *t, nil
}

// closeTrade closes an unpaid trade. Closing a closed one is no error here;
// the v2 API answers ORDERCLOSED itself.
func (w *WeChat) closeTrade(outTradeNo string) (wechatTrade, *wechatRefusal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.trades[outTradeNo]
	if !ok {
		return wechatTrade{}, wechatErrOrderNotExist
	}
	if t.State == wechatSuccess {
		return wechatTrade{}, wechatErrOrderPaid
	}
	prev := *t
	t.State = wechatClosed
	return prev, nil
}

// openID is the one simulated buyer, as this app sees them.
func (w *WeChat) openID() string {
	sum := sha256.Sum256([]byte("buyer/" + w.AppID))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}

// wechatPrepayID looks like WeChat Pay's: "wx", the Beijing time, 20 hex digits.
func wechatPrepayID(now time.Time) string {
	b := make([]byte, 10)
	rand.Read(b)
	return "wx" + now.In(chinatime.Location()).Format("20060102150405") + hex.EncodeToString(b)
}

// wechatTransactionID looks like WeChat Pay's: 28 digits starting 4200.
func wechatTransactionID(now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	return fmt.Sprintf("4200%s%016d", now.In(chinatime.Location()).Format("20060102"), n)
}

// wechatRandomString is n random letters and digits (nonces, tokens).
func wechatRandomString(n int) string {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		b[i] = chars[k.Int64()]
	}
	return string(b)
}
