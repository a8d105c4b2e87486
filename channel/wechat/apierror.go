package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"cashier"
)

// Operations, as APIError.Op names them (both API versions).
const (
	OpUnifiedOrder = "unifiedorder"
	OpOrderQuery   = "orderquery"
	OpCloseOrder   = "closeorder"
	OpRefund       = "refund"
	OpRefundQuery  = "refundquery"
)

// Refusal codes that callers act on: v2 err_code, v3 code.
const (
	CodeOrderPaid       = "ORDERPAID"         // v2 and v3
	CodeOutTradeNoUsed  = "OUT_TRADE_NO_USED" // v2 and v3
	CodeOrderNotExist   = "ORDERNOTEXIST"     // v2
	CodeOrderClosed     = "ORDERCLOSED"       // v2
	CodeOrderNotExistV3 = "ORDER_NOT_EXIST"   // v3
	CodeOrderClosedV3   = "ORDER_CLOSED"      // v3

	// Refunds. The outcome of a refund answered with one of these four is
	// unknown: WeChat Pay says to ask again with the same out_refund_no.
	CodeSystemError    = "SYSTEMERROR"       // v2
	CodeBizNeedRetry   = "BIZERR_NEED_RETRY" // v2
	CodeSystemErrorV3  = "SYSTEM_ERROR"      // v3
	CodeFrequencyLimit = "FREQUENCY_LIMITED" // v2 and v3

	CodeTradeOverdue   = "TRADE_OVERDUE"       // v2: past the refund period
	CodeRefundNotExist = "REFUNDNOTEXIST"      // v2 refundquery
	CodeNotExistV3     = "RESOURCE_NOT_EXISTS" // v3: no such refund (or trade)
	CodeNotEnough      = "NOTENOUGH"           // v2: the merchant's balance is short
	CodeNotEnoughV3    = "NOT_ENOUGH"          // v3
)

// APIError is a refusal answered by WeChat Pay: a v2 return_code FAIL (Code
// empty, Message the return_msg), a v2 result_code FAIL (err_code,
// err_code_des), or a v3 4xx/5xx answer ({code, message}). It is the cause
// (Err) of the *cashier.Error the channel returns.
type APIError struct {
	Op         string
	HTTPStatus int // v3 only
	Code       string
	Message    string

	// verified says that the refusal's signature checked out, so that it
	// may be acted upon (a trade that does not exist, one already paid).
	verified bool
}

func (e *APIError) Error() string {
	s := "wechat " + e.Op + ":"
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	return s + " " + e.Message
}

// channelError is how a refusal reaches the API client: ECHANNEL, with WeChat
// Pay's code and words.
func (e *APIError) channelError() *cashier.Error {
	msg := "WeChat Pay refused " + e.Op + ":"
	if e.HTTPStatus != 0 {
		msg = fmt.Sprintf("WeChat Pay answered HTTP %d to %s:", e.HTTPStatus, e.Op)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += " " + e.Message
	}
	return cashier.WrapError(e, cashier.ECHANNEL, strings.TrimSuffix(msg, ":"))
}

// httpStatus is the cause of the error of a v2 call answered with an HTTP
// error status, for callers that treat a 5xx as "outcome unknown" (Refund).
type httpStatus int

func (s httpStatus) Error() string { return fmt.Sprintf("HTTP %d", int(s)) }

// refusalLevel is how loudly a refusal is logged: a trade that does not
// exist yet is what polling expects before the buyer opens the payment.
func refusalLevel(code string) slog.Level {
	switch code {
	case CodeOrderNotExist, CodeOrderNotExistV3, CodeRefundNotExist, CodeNotExistV3:
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// is says whether e is a verified refusal with one of codes.
func (e *APIError) is(codes ...string) bool {
	return e.verified && slices.Contains(codes, e.Code)
}

// asAPIError returns the refusal in err's chain, if any.
func asAPIError(err error) (*APIError, bool) {
	var apiErr *APIError
	ok := errors.As(err, &apiErr)
	return apiErr, ok
}

// noAnswer is the error of a call that got no answer from WeChat Pay.
func (w *WeChat) noAnswer(ctx context.Context, op string, err error) error {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		return cashier.WrapError(err, cashier.EINTERNAL, "could not send the WeChat Pay request")
	}
	w.log.WarnContext(ctx, "wechat: WeChat Pay unreachable", "op", op, "err", err)
	if urlErr.Timeout() {
		return cashier.WrapError(err, cashier.ECHANNEL, "WeChat Pay did not answer in time")
	}
	return cashier.WrapError(err, cashier.ECHANNEL, "WeChat Pay is not reachable")
}

// unverifiable is the error of an answer that cannot be trusted.
func (w *WeChat) unverifiable(ctx context.Context, op string, err error) error {
	w.log.WarnContext(ctx, "wechat: bad answer", "op", op, "err", err)
	return cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer to %s could not be verified", op))
}
