package alipay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"cashier"
)

// Sub-codes Alipay answers that callers act on.
const (
	SubCodeTradeNotExist    = "ACQ.TRADE_NOT_EXIST"
	SubCodeTradeStatusError = "ACQ.TRADE_STATUS_ERROR"
)

// codeSuccess is the code of every successful gateway answer.
const codeSuccess = "10000"

// maxResponse bounds what is read from the gateway; real answers are a few KB.
const maxResponse = 1 << 20

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

// tradeResponse holds the fields of the trade query and close answers.
type tradeResponse struct {
	Code        string `json:"code"`
	Msg         string `json:"msg"`
	SubCode     string `json:"sub_code"`
	SubMsg      string `json:"sub_msg"`
	TradeNo     string `json:"trade_no"`
	OutTradeNo  string `json:"out_trade_no"`
	TradeStatus string `json:"trade_status"`
	TotalAmount string `json:"total_amount"`
	SendPayDate string `json:"send_pay_date"`
}

type tradeContent struct {
	OutTradeNo string `json:"out_trade_no"`
}

// Query asks Alipay about the attempt out_trade_no (alipay.trade.query). A
// trade Alipay does not know, because the buyer never opened it, is an
// ENOTFOUND error whose cause is an *APIError with SubCodeTradeNotExist.
func (a *Alipay) Query(ctx context.Context, outTradeNo string) (*cashier.Notification, error) {
	const method = "alipay.trade.query"
	r, apiErr, err := a.call(ctx, method, tradeContent{OutTradeNo: outTradeNo})
	if err != nil {
		return nil, err
	}
	if apiErr != nil {
		if apiErr.SubCode == SubCodeTradeNotExist {
			return nil, cashier.WrapError(apiErr, cashier.ENOTFOUND, fmt.Sprintf("alipay has no trade %s", outTradeNo))
		}
		return nil, cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay: "+apiErr.message())
	}
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
func (a *Alipay) Close(ctx context.Context, outTradeNo string) error {
	const method = "alipay.trade.close"
	_, apiErr, err := a.call(ctx, method, tradeContent{OutTradeNo: outTradeNo})
	if err != nil {
		return err
	}
	switch {
	case apiErr == nil:
		return nil
	case apiErr.SubCode == SubCodeTradeNotExist:
		return nil
	case apiErr.SubCode == SubCodeTradeStatusError:
		return cashier.WrapError(apiErr, cashier.ECONFLICT, fmt.Sprintf("alipay cannot close trade %s: %s", outTradeNo, apiErr.message()))
	default:
		return cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay: "+apiErr.message())
	}
}

// call sends a signed request to the gateway and returns its verified answer,
// or the gateway's refusal as an *APIError. A success, and a refusal that a
// caller treats as success, must carry a valid signature; other refusals are
// reported even unsigned, since Alipay does not sign every gateway error and
// believing one can only make the call fail.
func (a *Alipay) call(ctx context.Context, method string, bizContent any) (*tradeResponse, *APIError, error) {
	params, err := a.commonParams(method, bizContent, time.Now())
	if err != nil {
		return nil, nil, err
	}
	if err := a.signParams(params); err != nil {
		return nil, nil, cashier.WrapError(err, cashier.EINTERNAL, "could not sign the alipay request")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.gateway, strings.NewReader(encodeParams(params)))
	if err != nil {
		return nil, nil, cashier.WrapError(err, cashier.EINTERNAL, "could not build the alipay request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	resp, err := a.httpClient.Do(req)
	if err != nil {
		a.log.WarnContext(ctx, "alipay: gateway unreachable", "method", method, "err", err)
		return nil, nil, cashier.WrapError(err, cashier.EUNAVAILABLE, "alipay is not reachable")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, nil, cashier.WrapError(err, cashier.EUNAVAILABLE, "alipay's answer was cut off")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered HTTP %d to %s", resp.StatusCode, method)
	}

	raw, signed, err := a.openResponse(method, body)
	if err != nil {
		a.log.WarnContext(ctx, "alipay: bad gateway answer", "method", method, "err", err)
		return nil, nil, cashier.WrapError(err, cashier.ECHANNEL, "alipay's answer to "+method+" could not be verified")
	}
	var r tradeResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, nil, cashier.WrapError(err, cashier.ECHANNEL, "alipay's answer to "+method+" is malformed")
	}
	if r.Code == codeSuccess {
		if !signed {
			return nil, nil, cashier.Errorf(cashier.ECHANNEL, "alipay's answer to %s is not signed", method)
		}
		return &r, nil, nil
	}
	apiErr := &APIError{Method: method, Code: r.Code, Msg: r.Msg, SubCode: r.SubCode, SubMsg: r.SubMsg}
	a.log.WarnContext(ctx, "alipay: gateway refused", "method", method, "code", r.Code, "sub_code", r.SubCode, "sub_msg", r.SubMsg)
	if !signed && (r.SubCode == SubCodeTradeNotExist || r.SubCode == SubCodeTradeStatusError) {
		return nil, nil, cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay's answer to "+method+" is not signed")
	}
	return nil, apiErr, nil
}

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
	if err := verifyRSA2(a.platform, raw, sign); err != nil {
		return nil, false, err
	}
	return raw, true, nil
}
