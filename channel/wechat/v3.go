package wechat

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	gopaywechat3 "github.com/go-pay/gopay/wechat/v3"

	"cashier"
	"cashier/channel/internal/gopaykit"
)

// v3SignatureType is the only Wechatpay-Signature-Type accepted (no SM2).
const v3SignatureType = "WECHATPAY2-SHA256-RSA2048"

// errUnknownSerial is a v3 message signed with a key the channel does not
// have: a rotated platform certificate, or not WeChat Pay at all.
var errUnknownSerial = errors.New("signed with an unknown Wechatpay-Serial")

// callV3 sends one v3 call through gopay (which signs the Authorization
// header) and returns the answer once its signature checks out. A 4xx or
// 5xx answer is an ECHANNEL *cashier.Error whose cause is an *APIError.
func (w *WeChat) callV3(ctx context.Context, op string, send func(context.Context) error) (*gopaykit.Exchange, error) {
	ctx, x := gopaykit.WithExchange(ctx)
	err := send(ctx)
	if x.Status == 0 {
		return nil, w.noAnswer(ctx, op, err)
	}
	verifyErr := w.verifyV3(x.Header, x.Body)
	if x.Status >= http.StatusMultipleChoices {
		var e gopaywechat3.ErrResponse
		_ = json.Unmarshal(x.Body, &e) // an unreadable refusal is still a refusal
		apiErr := &APIError{Op: op, HTTPStatus: x.Status, Code: e.Code, Message: e.Message, verified: verifyErr == nil}
		w.log.Log(ctx, refusalLevel(e.Code), "wechat: refused", "op", op, "status", x.Status, "code", e.Code, "message", e.Message)
		return nil, apiErr.channelError()
	}
	if verifyErr != nil {
		return nil, w.unverifiable(ctx, op, verifyErr)
	}
	if err != nil {
		w.log.WarnContext(ctx, "wechat: malformed answer", "op", op, "err", err)
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer to %s is malformed", op))
	}
	return x, nil
}

// verifyV3 checks a v3 answer or notification: the key named by
// Wechatpay-Serial must be configured, Wechatpay-Timestamp within five
// minutes of now, and the signature (gopay's V3VerifySignByPK) must cover
// exactly body. gopay's own check (AutoVerifySign) has no timestamp window
// and would fetch certificates by itself on an unknown serial.
func (w *WeChat) verifyV3(h http.Header, body []byte) error {
	serial := h.Get(gopaywechat3.HeaderSerial)
	ts := h.Get(gopaywechat3.HeaderTimestamp)
	nonce := h.Get(gopaywechat3.HeaderNonce)
	sig := h.Get(gopaywechat3.HeaderSignature)
	if serial == "" || ts == "" || nonce == "" || sig == "" {
		return errors.New("not signed (Wechatpay-* headers missing)")
	}
	if st := h.Get(gopaywechat3.HeaderSignatureType); st != "" && st != v3SignatureType {
		return fmt.Errorf("signature type %q is not supported", st)
	}
	key, ok := w.platformKeys[serial]
	if !ok {
		return fmt.Errorf("%w %q", errUnknownSerial, serial)
	}
	if err := gopaywechat3.V3VerifySignByPK(ts, nonce, string(body), sig, key); err != nil {
		return errors.New("signature does not verify")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not a unix time", ts)
	}
	if d := w.now().Sub(time.Unix(sec, 0)); d > timestampWindow || d < -timestampWindow {
		return fmt.Errorf("timestamp %s is more than %v from now", ts, timestampWindow)
	}
	return nil
}

// signAppV3 is the v3 APP re-sign: SHA256withRSA over
// "appid\ntimestamp\nnoncestr\nprepayid\n" with the merchant key. Written
// here because gopay's PaySignOfApp stamps the wall clock and its own nonce,
// not the attempt's time.
func (w *WeChat) signAppV3(timestamp, nonce, prepayID string) (string, error) {
	digest := sha256.Sum256([]byte(w.appID + "\n" + timestamp + "\n" + nonce + "\n" + prepayID + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, w.privateKey, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// queryV3 asks about out_trade_no (GET /v3/pay/transactions/out-trade-no/{otn}).
func (w *WeChat) queryV3(ctx context.Context, outTradeNo string) (*cashier.Notification, error) {
	x, err := w.callV3(ctx, OpOrderQuery, func(ctx context.Context) error {
		_, err := w.v3.V3TransactionQueryOrder(ctx, gopaywechat3.OutTradeNo, outTradeNo)
		return err
	})
	if err != nil {
		if apiErr, ok := asAPIError(err); ok && apiErr.is(CodeOrderNotExistV3, CodeOrderNotExist) {
			return nil, cashier.WrapError(apiErr, cashier.ENOTFOUND, fmt.Sprintf("WeChat Pay has no trade %s", outTradeNo))
		}
		return nil, err
	}
	// The query answers the transaction object that payment notifications
	// carry encrypted, so gopay's type for those reads it.
	var t gopaywechat3.V3DecryptPayResult
	if err := json.Unmarshal(x.Body, &t); err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer about %s is malformed", outTradeNo))
	}
	if t.Appid != w.appID || t.Mchid != w.mchID {
		return nil, w.unverifiable(ctx, OpOrderQuery, fmt.Errorf("answer is for appid %q, mchid %q", t.Appid, t.Mchid))
	}
	n, err := v3Notification(&t)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer about %s is malformed", outTradeNo))
	}
	if n.OutTradeNo != outTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay answered a query for %s about trade %q", outTradeNo, n.OutTradeNo)
	}
	return n, nil
}

// closeV3 closes out_trade_no (POST /v3/pay/transactions/out-trade-no/{otn}/close).
func (w *WeChat) closeV3(ctx context.Context, outTradeNo string) error {
	_, err := w.callV3(ctx, OpCloseOrder, func(ctx context.Context) error {
		_, err := w.v3.V3TransactionCloseOrder(ctx, outTradeNo)
		return err
	})
	return w.closed(outTradeNo, err)
}

// v3TradeStates maps a v3 trade_state to what it means for the payment.
var v3TradeStates = map[string]cashier.NotifyStatus{
	"SUCCESS":    cashier.NotifyPaid,
	"REFUND":     cashier.NotifyPaid, // paid, then (partly) refunded
	"NOTPAY":     cashier.NotifyPending,
	"USERPAYING": cashier.NotifyPending,
	"CLOSED":     cashier.NotifyClosed,
	"REVOKED":    cashier.NotifyClosed,
	"PAYERROR":   cashier.NotifyFailed,
}

// v3Notification reads a verified v3 transaction object (a decrypted
// notification resource or a query answer).
func v3Notification(t *gopaywechat3.V3DecryptPayResult) (*cashier.Notification, error) {
	n := &cashier.Notification{
		OutTradeNo:     t.OutTradeNo,
		ChannelTradeNo: t.TransactionId,
		RawStatus:      t.TradeState,
	}
	if n.OutTradeNo == "" {
		return nil, errors.New("no out_trade_no")
	}
	var ok bool
	if n.Status, ok = v3TradeStates[t.TradeState]; !ok {
		return nil, fmt.Errorf("unknown trade_state %q", t.TradeState)
	}
	switch {
	case t.Amount != nil && t.Amount.Total >= 0:
		n.Amount = int64(t.Amount.Total)
	case t.Amount != nil || n.Status == cashier.NotifyPaid:
		// An unpaid trade may come without an amount; a paid one may not.
		return nil, errors.New("no amount.total")
	}
	if n.Status == cashier.NotifyPaid && n.ChannelTradeNo == "" {
		return nil, errors.New("a paid trade without transaction_id")
	}
	var err error
	if n.PaidAt, err = parseV3Time(t.SuccessTime); err != nil {
		return nil, fmt.Errorf("success_time %q is not an RFC 3339 time", t.SuccessTime)
	}
	return n, nil
}
