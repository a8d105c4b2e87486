package alipay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-pay/gopay"
	gopayalipay "github.com/go-pay/gopay/alipay"

	"cashier"
	"cashier/channel/internal/gopaykit"
)

// Sub-codes Alipay answers that callers act on.
const (
	SubCodeTradeNotExist    = "ACQ.TRADE_NOT_EXIST"
	SubCodeTradeStatusError = "ACQ.TRADE_STATUS_ERROR"
)

// codeSuccess is the code of every successful gateway answer.
const codeSuccess = "10000"

// APIError is a refusal answered by Alipay's gateway. It is the cause (Err) of
// the *cashier.Error that Query and Close return, for callers that need the
// sub-code.
type APIError struct {
	Method  string
	Code    string
	Msg     string
	SubCode string
	SubMsg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("alipay %s: %s %s: %s %s", e.Method, e.Code, e.Msg, e.SubCode, e.SubMsg)
}

// message is what a client is told: Alipay's sub_msg when it gave one.
func (e *APIError) message() string {
	if e.SubMsg != "" {
		return e.SubMsg
	}
	return e.Msg
}

// Query asks Alipay about the attempt out_trade_no (alipay.trade.query). A
// trade Alipay does not know, because the buyer never opened it, is an
// ENOTFOUND error whose cause is an *APIError with SubCodeTradeNotExist.
func (a *Alipay) Query(ctx context.Context, t cashier.Trade) (*cashier.Notification, error) {
	outTradeNo := t.OutTradeNo
	const method = "alipay.trade.query"
	ctx, x := gopaykit.WithExchange(ctx)
	rsp, err := a.client.TradeQuery(ctx, gopay.BodyMap{"out_trade_no": outTradeNo})
	if err != nil {
		apiErr, err := a.refusal(ctx, method, x, err)
		if err != nil {
			return nil, err
		}
		if apiErr.SubCode == SubCodeTradeNotExist {
			return nil, cashier.WrapError(apiErr, cashier.ENOTFOUND, fmt.Sprintf("alipay has no trade %s", outTradeNo))
		}
		return nil, cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay: "+apiErr.message())
	}
	if err := a.verifyAnswer(ctx, method, rsp.SignData, rsp.Sign); err != nil {
		return nil, err
	}
	r := rsp.Response
	if r.OutTradeNo != outTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered a query for %s about trade %q", outTradeNo, r.OutTradeNo)
	}
	n := &cashier.Notification{OutTradeNo: r.OutTradeNo, ChannelTradeNo: r.TradeNo, RawStatus: r.TradeStatus}
	var ok bool
	if n.Status, ok = tradeStatuses[r.TradeStatus]; !ok {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered unknown trade_status %q for %s", r.TradeStatus, outTradeNo)
	}
	if n.Amount, err = cashier.ParseYuan(r.TotalAmount); err != nil {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered total_amount %q for %s", r.TotalAmount, outTradeNo)
	}
	if n.PaidAt, err = a.parseTime(r.SendPayDate); err != nil {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered send_pay_date %q for %s", r.SendPayDate, outTradeNo)
	}
	return n, nil
}

// Close closes the attempt out_trade_no at Alipay (alipay.trade.close), so that
// it can no longer be paid. A trade Alipay does not know cannot be paid
// either, so that is no error. A trade already paid is an ECONFLICT error
// whose cause is an *APIError with SubCodeTradeStatusError.
func (a *Alipay) Close(ctx context.Context, t cashier.Trade) error {
	outTradeNo := t.OutTradeNo
	const method = "alipay.trade.close"
	ctx, x := gopaykit.WithExchange(ctx)
	rsp, err := a.client.TradeClose(ctx, gopay.BodyMap{"out_trade_no": outTradeNo})
	if err == nil {
		return a.verifyAnswer(ctx, method, rsp.SignData, rsp.Sign)
	}
	apiErr, err := a.refusal(ctx, method, x, err)
	switch {
	case err != nil:
		return err
	case apiErr.SubCode == SubCodeTradeNotExist:
		return nil
	case apiErr.SubCode == SubCodeTradeStatusError:
		return cashier.WrapError(apiErr, cashier.ECONFLICT, fmt.Sprintf("alipay cannot close trade %s: %s", outTradeNo, apiErr.message()))
	default:
		return cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay: "+apiErr.message())
	}
}

// verifyAnswer checks the signature of a successful answer, which gopay has
// cut out of the body (signData). In certificate mode gopay has already
// verified it, and checked the certificate SN, before returning success.
func (a *Alipay) verifyAnswer(ctx context.Context, method, signData, sign string) error {
	if a.platformCert != nil {
		return nil
	}
	if sign == "" {
		return cashier.Errorf(cashier.ECHANNEL, "alipay's answer to %s is not signed", method)
	}
	if ok, err := gopayalipay.VerifySyncSign(a.platformKey, signData, sign); err != nil || !ok {
		a.log.WarnContext(ctx, "alipay: bad gateway answer", "method", method, "err", "signature does not verify")
		return cashier.Errorf(cashier.ECHANNEL, "alipay's answer to %s could not be verified", method)
	}
	return nil
}

// refusal turns the error of a gopay call into the gateway's refusal, as an
// *APIError, or into the error the caller returns: the gateway could not be
// reached, or answered something unusable. A refusal that a caller treats as
// an answer (the trade does not exist, or cannot be closed) must carry a
// valid signature; other refusals are reported even unsigned, since Alipay
// does not sign every gateway error and believing one can only make the call
// fail.
func (a *Alipay) refusal(ctx context.Context, method string, x *gopaykit.Exchange, err error) (*APIError, error) {
	if x.Status == 0 {
		var urlErr *url.Error
		if !errors.As(err, &urlErr) {
			return nil, cashier.WrapError(err, cashier.EINTERNAL, "could not send the alipay request")
		}
		a.log.WarnContext(ctx, "alipay: gateway unreachable", "method", method, "err", err)
		return nil, cashier.WrapError(err, cashier.EUNAVAILABLE, "alipay is not reachable")
	}
	if x.Status != http.StatusOK {
		return nil, cashier.WrapError(httpStatus(x.Status), cashier.ECHANNEL, fmt.Sprintf("alipay answered HTTP %d to %s", x.Status, method))
	}
	// What is left: gopay found no response object (gopay.UnmarshalErr), a
	// refusal (*alipay.BizErr), or, in certificate mode, an answer that did
	// not verify. A refusal is read again from the bytes the signature covers.
	if _, isBiz := gopayalipay.IsBizError(err); !isBiz && !errors.Is(err, gopay.UnmarshalErr) {
		a.log.WarnContext(ctx, "alipay: bad gateway answer", "method", method, "err", err)
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "alipay's answer to "+method+" could not be verified")
	}
	raw, signed, err := a.openResponse(method, x.Body)
	if err != nil {
		a.log.WarnContext(ctx, "alipay: bad gateway answer", "method", method, "err", err)
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "alipay's answer to "+method+" could not be verified")
	}
	var r gopayalipay.ErrorResponse
	if err := json.Unmarshal(raw, &r); err != nil || r.Code == codeSuccess {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay's answer to %s is malformed", method)
	}
	apiErr := &APIError{Method: method, Code: r.Code, Msg: r.Msg, SubCode: r.SubCode, SubMsg: r.SubMsg}
	level := slog.LevelWarn
	if r.SubCode == SubCodeTradeNotExist {
		// Routine: an app trade exists at Alipay only once the buyer opened it.
		level = slog.LevelDebug
	}
	a.log.Log(ctx, level, "alipay: gateway refused", "method", method, "code", r.Code, "sub_code", r.SubCode, "sub_msg", r.SubMsg)
	if !signed && (r.SubCode == SubCodeTradeNotExist || r.SubCode == SubCodeTradeStatusError) {
		return nil, cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay's answer to "+method+" is not signed")
	}
	return apiErr, nil
}

// httpStatus is the cause of the error of a call answered with an HTTP
// error status, for callers that treat a 5xx as "outcome unknown" (Refund).
type httpStatus int

func (s httpStatus) Error() string { return fmt.Sprintf("HTTP %d", int(s)) }

// openResponse takes the "<method>_response" (or "error_response") object out
// of a gateway answer as raw bytes and verifies its signature when it has
// one: Alipay signs the exact bytes of that object, so it must not be
// re-encoded before verification.
func (a *Alipay) openResponse(method string, body []byte) (raw []byte, signed bool, err error) {
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(body, &envelope); err != nil {
		return nil, false, fmt.Errorf("answer is not a JSON object: %w", err)
	}
	raw = envelope[strings.ReplaceAll(method, ".", "_")+"_response"]
	if raw == nil {
		raw = envelope["error_response"]
	}
	if raw == nil {
		return nil, false, errors.New("answer has no response object")
	}
	var sign string
	if s, ok := envelope["sign"]; ok {
		if err := json.Unmarshal(s, &sign); err != nil {
			return nil, false, fmt.Errorf("sign is not a string: %w", err)
		}
	}
	if sign == "" {
		return raw, false, nil
	}
	if s, ok := envelope["alipay_cert_sn"]; ok && a.platformCertSN != "" {
		var sn string
		if err := json.Unmarshal(s, &sn); err != nil {
			return nil, false, fmt.Errorf("alipay_cert_sn is not a string: %w", err)
		}
		// Alipay rotated its certificate: the configured one cannot verify.
		if sn != a.platformCertSN {
			return nil, false, fmt.Errorf("answer signed with Alipay certificate %s, configured is %s: download the new Alipay public certificate", sn, a.platformCertSN)
		}
	}
	if ok, err := gopayalipay.VerifySyncSign(a.platformKey, string(raw), sign); err != nil || !ok {
		return nil, false, errors.New("signature does not verify")
	}
	return raw, true, nil
}
