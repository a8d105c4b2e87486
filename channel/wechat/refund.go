package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"cashier"
	"cashier/channel"
)

// WeChat Pay's limits on refund fields.
const (
	maxOutRefundNo       = 64
	maxRefundReasonRunes = 80
)

// retryCodes are the refusals after which a refund's outcome is unknown:
// WeChat Pay says to ask again with the same out_refund_no.
var retryCodes = []string{CodeSystemError, CodeBizNeedRetry, CodeSystemErrorV3, CodeFrequencyLimit}

// Refund asks WeChat Pay to give back req.Amount of the paid attempt
// req.OutTradeNo; req.Total must be the attempt's amount, which WeChat Pay
// checks. Asking again with the same req.OutRefundNo does not refund twice:
// WeChat Pay answers the refund it already has.
//
// WeChat Pay refunds asynchronously. v2 (/secapi/pay/refund, over the
// Config.ClientCert client) only says that it took the refund: the result
// is RefundPending. v3 (POST /v3/refund/domestic/refunds) answers the
// refund's status: SUCCESS, PROCESSING (pending), ABNORMAL or CLOSED
// (failed). The outcome comes by notification to req.NotifyURL
// (VerifyNotification returns it with Refund set) or from QueryRefund.
//
// Errors: EUNAVAILABLE when the outcome is unknown (no answer in time, an
// HTTP 5xx, WeChat Pay's SYSTEMERROR…): asking again with the same
// OutRefundNo is safe and is how to learn it. ECONFLICT when the trade is
// past its refund period; ECHANNEL, with WeChat Pay's words, for other
// refusals (more than what is left to refund, the merchant's balance is
// short, the trade is unknown…), whose cause is an *APIError.
func (w *WeChat) Refund(ctx context.Context, req cashier.RefundRequest) (*cashier.RefundResult, error) {
	if err := checkRefundNos(req.OutTradeNo, req.OutRefundNo); err != nil {
		return nil, err
	}
	switch {
	case req.Amount <= 0:
		return nil, cashier.Errorf(cashier.EINVALID, "a refund must be at least 0.01 yuan")
	case req.Total <= 0:
		return nil, cashier.Errorf(cashier.EINVALID, "wechat needs the attempt's amount to refund it")
	case req.Amount > req.Total:
		return nil, cashier.Errorf(cashier.EINVALID, "a refund of %s yuan is more than the %s yuan paid", cashier.FormatYuan(req.Amount), cashier.FormatYuan(req.Total))
	}
	reason := channel.Clip(strings.TrimSpace(req.Reason), maxRefundReasonRunes)
	var (
		res *cashier.RefundResult
		err error
	)
	if w.version == 3 {
		res, err = w.refundV3(ctx, req, reason)
	} else {
		res, err = w.refundV2(ctx, req, reason)
	}
	if err != nil {
		return nil, refundError(err)
	}
	w.log.InfoContext(ctx, "wechat: refund asked", "out_trade_no", res.OutTradeNo, "out_refund_no", res.OutRefundNo, "refund_id", res.ChannelRefundNo, "status", res.Status)
	return res, nil
}

// QueryRefund asks WeChat Pay about the refund outRefundNo of the attempt
// outTradeNo. A refund WeChat Pay does not know is ENOTFOUND.
func (w *WeChat) QueryRefund(ctx context.Context, t cashier.Trade, outRefundNo string) (*cashier.RefundResult, error) {
	outTradeNo := t.OutTradeNo
	if err := checkRefundNos(outTradeNo, outRefundNo); err != nil {
		return nil, err
	}
	var (
		res *cashier.RefundResult
		err error
	)
	if w.version == 3 {
		res, err = w.queryRefundV3(ctx, outTradeNo, outRefundNo)
	} else {
		res, err = w.queryRefundV2(ctx, outTradeNo, outRefundNo)
	}
	if err != nil {
		return nil, refundError(err)
	}
	return res, nil
}

// refundError maps the errors of refund calls, either version: those after
// which the outcome is unknown become EUNAVAILABLE, so that the caller asks
// again rather than giving the refund up; a refund period that is over is
// ECONFLICT.
func refundError(err error) error {
	var (
		urlErr *url.Error
		status httpStatus
	)
	apiErr, isAPI := asAPIError(err)
	switch {
	case isAPI && apiErr.is(CodeTradeOverdue):
		return cashier.WrapError(err, cashier.ECONFLICT, cashier.ErrorMessage(err))
	case cashier.ErrorCode(err) != cashier.ECHANNEL:
	case errors.As(err, &urlErr),
		errors.As(err, &status) && status >= 500,
		isAPI && (apiErr.HTTPStatus >= 500 || slices.Contains(retryCodes, apiErr.Code)):
		return cashier.WrapError(err, cashier.EUNAVAILABLE, cashier.ErrorMessage(err)+": ask again with the same refund number")
	}
	return err
}

// refundStatuses maps a refund status, v2 or v3, to cashier's.
var refundStatuses = map[string]cashier.RefundStatus{
	"SUCCESS":     cashier.RefundSucceeded,
	"PROCESSING":  cashier.RefundPending,
	"CHANGE":      cashier.RefundFailed, // v2: the money could not be returned
	"REFUNDCLOSE": cashier.RefundFailed, // v2
	"ABNORMAL":    cashier.RefundFailed, // v3: as v2's CHANGE
	"CLOSED":      cashier.RefundFailed, // v3
}

// refundFailures say what a failed refund status means, for RefundResult.Detail.
var refundFailures = map[string]string{
	"CHANGE":      "WeChat Pay could not return the money (CHANGE): the buyer's account or card cannot receive it; settle it in the merchant console",
	"ABNORMAL":    "WeChat Pay could not return the money (ABNORMAL): the buyer's account or card cannot receive it; settle it in the merchant console",
	"REFUNDCLOSE": "WeChat Pay closed the refund (REFUNDCLOSE)",
	"CLOSED":      "WeChat Pay closed the refund (CLOSED)",
}

// refundResult is a refund as WeChat Pay reported it (an answer or a
// notification), once its fields are checked.
func refundResult(outTradeNo, outRefundNo, refundID, status string, amount int64) (*cashier.RefundResult, error) {
	res := &cashier.RefundResult{
		OutTradeNo:      outTradeNo,
		OutRefundNo:     outRefundNo,
		ChannelRefundNo: refundID,
		Amount:          amount,
		Detail:          refundFailures[status],
	}
	var ok bool
	switch res.Status, ok = refundStatuses[status]; {
	case !ok:
		return nil, fmt.Errorf("unknown refund status %q", status)
	case outTradeNo == "" || outRefundNo == "":
		return nil, errors.New("no out_trade_no or out_refund_no")
	case refundID == "":
		return nil, errors.New("no refund_id")
	case amount <= 0:
		return nil, errors.New("no refund amount")
	}
	return res, nil
}

// checkRefundNos enforces WeChat Pay's out_trade_no and out_refund_no: 1 to
// 64 digits, letters, '_', '-', '|', '*' or '@'. out_refund_no is part of
// v3 URL paths.
func checkRefundNos(outTradeNo, outRefundNo string) error {
	if err := checkOutTradeNo(outTradeNo); err != nil {
		return err
	}
	ok := outRefundNo != "" && len(outRefundNo) <= maxOutRefundNo
	for i := 0; ok && i < len(outRefundNo); i++ {
		c := outRefundNo[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("_-|*@", c) >= 0
	}
	if !ok {
		return cashier.Errorf(cashier.EINVALID, "wechat needs a refund number of 1 to %d letters, digits, '_', '-', '|', '*' or '@'", maxOutRefundNo)
	}
	return nil
}
