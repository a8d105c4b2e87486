package apple

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"cashier"
)

// TradeNoPrefix starts the out_trade_no of Apple attempts.
const TradeNoPrefix = "APL"

// Ticket is what the order API answers for channel apple: the seed's
// {orderid, price, appleProductId, sign}, and the UUID the app passes to
// StoreKit as appAccountToken, which ties the purchase to the attempt.
type Ticket struct {
	OrderID         string `json:"orderid"` // the attempt's out_trade_no
	Price           int64  `json:"price"`   // fen, as cashier priced the package
	AppleProductID  string `json:"appleProductId"`
	Sign            string `json:"sign"`
	AppAccountToken string `json:"app_account_token"`
}

// SignTicket is the ticket's sign: base64 of HMAC-SHA256, keyed with the
// ticket secret, over "orderid=…&price=…&appleProductId=…".
func SignTicket(secret []byte, orderID string, price int64, productID string) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "orderid=%s&price=%d&appleProductId=%s", orderID, price, productID)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// AccountToken is the appAccountToken of an attempt: a UUID (version 8,
// RFC 9562's custom layout) whose hex digits spell the 24 digits of the
// out_trade_no after its prefix, so that a purchase names its attempt. It
// needs no secrecy: a purchase for someone else's token pays their order.
func AccountToken(outTradeNo string) (string, error) {
	digits, ok := strings.CutPrefix(outTradeNo, TradeNoPrefix)
	if !ok || len(digits) != 24 || !decimal(digits) {
		return "", fmt.Errorf("apple: out_trade_no %q is not %s and 24 digits", outTradeNo, TradeNoPrefix)
	}
	h := digits[:12] + "8" + digits[12:15] + "8" + digits[15:] + "000000"
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// outTradeNoOf reads the attempt an appAccountToken names.
func outTradeNoOf(token string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(token, "-", ""))
	if len(token) != 36 || len(h) != 32 || h[12] != '8' || h[16] != '8' || !strings.HasSuffix(h, "000000") {
		return "", cashier.Errorf(cashier.EUNPROCESSABLE, "appAccountToken %q is not one cashier gave", token)
	}
	digits := h[:12] + h[13:16] + h[17:26]
	if !decimal(digits) {
		return "", cashier.Errorf(cashier.EUNPROCESSABLE, "appAccountToken %q is not one cashier gave", token)
	}
	return TradeNoPrefix + digits, nil
}

func decimal(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
