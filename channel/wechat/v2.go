package wechat

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"

	"cashier"
	"cashier/channel/internal/gopaykit"
)

// The words of v2 answers.
const (
	codeSuccess = "SUCCESS"
	codeFail    = "FAIL"
)

// callV2 sends one v2 call through gopay (which adds appid and mch_id and
// signs) and returns the fields of the answer, once its signature and
// merchant are checked. A refusal is an ECHANNEL *cashier.Error whose cause is
// an *APIError; callers that act on a refusal's code find it with asAPIError.
func (w *WeChat) callV2(ctx context.Context, op string, bm gopay.BodyMap,
	send func(context.Context, gopay.BodyMap) error) (gopay.BodyMap, error) {
	bm.Set("nonce_str", newNonce()).Set("sign_type", w.signType)
	ctx, x := gopaykit.WithExchange(ctx)
	err := send(ctx, bm)
	if x.Status == 0 {
		return nil, w.noAnswer(ctx, op, err)
	}
	if x.Status != http.StatusOK {
		w.log.WarnContext(ctx, "wechat: HTTP error", "op", op, "status", x.Status)
		return nil, cashier.WrapError(httpStatus(x.Status), cashier.ECHANNEL, fmt.Sprintf("WeChat Pay answered HTTP %d to %s", x.Status, op))
	}
	// gopay's error, if any, is about the body, which is read again here
	// from the bytes WeChat Pay sent.
	ans, err := parseV2(x.Body)
	if err != nil {
		w.log.WarnContext(ctx, "wechat: malformed answer", "op", op, "err", err)
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer to %s is malformed", op))
	}
	switch ans.GetString("return_code") {
	case codeSuccess:
	case codeFail:
		// A communication failure (bad sign, missing parameter…): WeChat
		// Pay does not sign these, and nothing is acted upon but the error.
		apiErr := &APIError{Op: op, Message: ans.GetString("return_msg")}
		w.log.WarnContext(ctx, "wechat: refused", "op", op, "return_msg", apiErr.Message)
		return nil, apiErr.channelError()
	default:
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer to %s is malformed: no return_code", op)
	}
	if err := w.verifyV2(ans, w.signType); err != nil {
		return nil, w.unverifiable(ctx, op, err)
	}
	if ans.GetString("appid") != w.appID || ans.GetString("mch_id") != w.mchID {
		return nil, w.unverifiable(ctx, op, fmt.Errorf("answer is for appid %q, mch_id %q", ans.GetString("appid"), ans.GetString("mch_id")))
	}
	if ans.GetString("result_code") != codeSuccess {
		apiErr := &APIError{Op: op, Code: ans.GetString("err_code"), Message: ans.GetString("err_code_des"), verified: true}
		w.log.Log(ctx, refusalLevel(apiErr.Code), "wechat: refused", "op", op, "err_code", apiErr.Code, "err_code_des", apiErr.Message)
		return nil, apiErr.channelError()
	}
	return ans, nil
}

// parseV2 decodes a v2 XML message into its fields, once: signatures are
// checked and fields read on what this returns.
func parseV2(body []byte) (gopay.BodyMap, error) {
	bm := make(gopay.BodyMap)
	if err := xml.Unmarshal(body, &bm); err != nil {
		return nil, fmt.Errorf("not XML: %w", err)
	}
	if len(bm) == 0 {
		return nil, errors.New("no fields")
	}
	return bm, nil
}

// verifyV2 checks the v2 signature of fields: gopay's, over every non-empty
// field but sign, with the API key.
func (w *WeChat) verifyV2(fields gopay.BodyMap, signType string) error {
	if fields.GetString("sign") == "" {
		return errors.New("not signed")
	}
	// gopay's VerifySign removes sign from the map it is given.
	ok, err := gopaywechat.VerifySign(w.apiKey, signType, maps.Clone(fields))
	if err != nil || !ok {
		return errors.New("signature does not verify")
	}
	return nil
}

// queryV2 asks about out_trade_no (/pay/orderquery).
func (w *WeChat) queryV2(ctx context.Context, outTradeNo string) (*cashier.Notification, error) {
	ans, err := w.callV2(ctx, OpOrderQuery, gopay.BodyMap{"out_trade_no": outTradeNo}, func(ctx context.Context, bm gopay.BodyMap) error {
		_, _, err := w.v2.QueryOrder(ctx, bm)
		return err
	})
	if err != nil {
		if apiErr, ok := asAPIError(err); ok && apiErr.is(CodeOrderNotExist) {
			return nil, cashier.WrapError(apiErr, cashier.ENOTFOUND, fmt.Sprintf("WeChat Pay has no trade %s", outTradeNo))
		}
		return nil, err
	}
	state := ans.GetString("trade_state")
	status, ok := v2TradeStates[state]
	if !ok {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay answered unknown trade_state %q for %s", state, outTradeNo)
	}
	n, err := w.v2Notification(ans, status, state)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer about %s is malformed", outTradeNo))
	}
	if n.OutTradeNo != outTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay answered a query for %s about trade %q", outTradeNo, n.OutTradeNo)
	}
	return n, nil
}

// closeV2 closes out_trade_no (/pay/closeorder).
func (w *WeChat) closeV2(ctx context.Context, outTradeNo string) error {
	_, err := w.callV2(ctx, OpCloseOrder, gopay.BodyMap{"out_trade_no": outTradeNo}, func(ctx context.Context, bm gopay.BodyMap) error {
		_, err := w.v2.CloseOrder(ctx, bm)
		return err
	})
	return w.closed(outTradeNo, err)
}

// v2TradeStates maps orderquery's trade_state to what it means for the
// payment.
var v2TradeStates = map[string]cashier.NotifyStatus{
	"SUCCESS":    cashier.NotifyPaid,
	"REFUND":     cashier.NotifyPaid, // paid, then (partly) refunded
	"NOTPAY":     cashier.NotifyPending,
	"USERPAYING": cashier.NotifyPending,
	"ACCEPT":     cashier.NotifyPending, // accepted, waiting to be debited
	"CLOSED":     cashier.NotifyClosed,
	"REVOKED":    cashier.NotifyClosed,
	"PAYERROR":   cashier.NotifyFailed,
}

// v2Notification reads a verified v2 message about one trade (a
// notification or an orderquery answer).
func (w *WeChat) v2Notification(fields gopay.BodyMap, status cashier.NotifyStatus, raw string) (*cashier.Notification, error) {
	n := &cashier.Notification{
		OutTradeNo:     fields.GetString("out_trade_no"),
		ChannelTradeNo: fields.GetString("transaction_id"),
		Status:         status,
		RawStatus:      raw,
	}
	if n.OutTradeNo == "" {
		return nil, errors.New("no out_trade_no")
	}
	fee := fields.GetString("total_fee")
	// An unpaid trade may come without an amount; a paid one may not.
	if fee != "" || status == cashier.NotifyPaid {
		var err error
		if n.Amount, err = parseFen(fee); err != nil {
			return nil, fmt.Errorf("total_fee %q is not an amount in fen", fee)
		}
	}
	if status == cashier.NotifyPaid && n.ChannelTradeNo == "" {
		return nil, errors.New("a paid trade without transaction_id")
	}
	var err error
	if n.PaidAt, err = w.parseV2Time(fields.GetString("time_end")); err != nil {
		return nil, fmt.Errorf("time_end %q is not a time", fields.GetString("time_end"))
	}
	return n, nil
}

// parseFen parses a non-negative integer amount in fen, digits only.
func parseFen(s string) (int64, error) {
	if s == "" || len(s) > 15 {
		return 0, errors.New("not an amount")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not an amount")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// newNonce is a nonce_str: 26 random characters (WeChat Pay allows 32).
func newNonce() string { return rand.Text() }
