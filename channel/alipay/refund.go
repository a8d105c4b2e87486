package alipay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-pay/gopay"
	gopayalipay "github.com/go-pay/gopay/alipay"

	"cashier"
	"cashier/channel"
	"cashier/channel/internal/gopaykit"
)

// Sub-codes of alipay.trade.refund: those Refund maps to an error code of
// its own, and refusals a caller may want to tell apart in the *APIError
// (the others are ECHANNEL too, with Alipay's sub_msg).
const (
	SubCodeSystemError          = "ACQ.SYSTEM_ERROR"              // outcome unknown: ask again, same out_request_no
	SubCodeTradeHasFinished     = "ACQ.TRADE_HAS_FINISHED"        // past the refund period: no more refunds
	SubCodeTradeHasClose        = "ACQ.TRADE_HAS_CLOSE"           // closed (unpaid, or refunded in full)
	SubCodeDiscordantRepeat     = "ACQ.DISCORDANT_REPEAT_REQUEST" // out_request_no reused with another amount
	SubCodeRefundAmountExceeded = "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
	SubCodeSellerBalanceShort   = "ACQ.SELLER_BALANCE_NOT_ENOUGH"
)

// codeUnknownError is the gateway's "Service Currently Unavailable"
// (isp.unknow-error): Alipay does not know the outcome either.
const codeUnknownError = "20000"

// conflictSubCodes are the refusals that say the trade's state, not the
// request, forbids the refund.
var conflictSubCodes = []string{SubCodeTradeStatusError, SubCodeTradeHasFinished, SubCodeTradeHasClose, SubCodeDiscordantRepeat}

// Alipay's limits and words for refunds.
const (
	maxOutRequestNo      = 64
	maxRefundReasonRunes = 256
	refundStatusSuccess  = "REFUND_SUCCESS"
	fundChanged          = "Y"
)

var _ cashier.Refunder = (*Alipay)(nil)

// Refund gives back req.Amount of the paid attempt req.OutTradeNo
// (alipay.trade.refund), req.OutRefundNo being the out_request_no that
// tells one partial refund from another.
//
// Alipay refunds synchronously: an answer with fund_change "Y" is a refund
// made (RefundSucceeded). An answer with fund_change "N" moved no money in
// this call: the same out_request_no was refunded before (Refund was
// called again), or Alipay is still at it. The refund is then looked up
// (QueryRefund): made, it is RefundSucceeded; not yet, RefundPending.
//
// Errors: EUNAVAILABLE when the outcome is unknown (no answer, an HTTP 5xx,
// Alipay's own system error); asking again with the same OutRefundNo is
// safe and is how to learn it. ECONFLICT when the trade's state forbids the
// refund (not paid, closed, past the refund period) or OutRefundNo was used
// for another amount; ECHANNEL, with Alipay's sub_msg, for other refusals
// (the trade does not exist, more than what is left to refund, the
// merchant's balance is short…). The cause of a refusal is an *APIError.
//
// Alipay numbers no refunds: ChannelRefundNo stays empty, and Amount is
// req.Amount (the answer's refund_fee is the trade's refunded total).
func (a *Alipay) Refund(ctx context.Context, req cashier.RefundRequest) (*cashier.RefundResult, error) {
	const method = "alipay.trade.refund"
	if err := checkRefundNos(req.OutTradeNo, req.OutRefundNo); err != nil {
		return nil, err
	}
	if req.Amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "a refund must be at least 0.01 yuan")
	}
	if req.Total > 0 && req.Amount > req.Total {
		return nil, cashier.Errorf(cashier.EINVALID, "a refund of %s yuan is more than the %s yuan paid", cashier.FormatYuan(req.Amount), cashier.FormatYuan(req.Total))
	}
	bm := make(gopay.BodyMap)
	bm.Set("out_trade_no", req.OutTradeNo).
		Set("refund_amount", cashier.FormatYuan(req.Amount)).
		Set("out_request_no", req.OutRefundNo)
	if reason := strings.TrimSpace(req.Reason); reason != "" {
		bm.Set("refund_reason", channel.Clip(reason, maxRefundReasonRunes))
	}
	callCtx, x := gopaykit.WithExchange(ctx)
	rsp, err := a.client.TradeRefund(callCtx, bm)
	if err != nil {
		apiErr, err := a.refusal(callCtx, method, x, err)
		if err != nil {
			return nil, refundOutcomeUnknown(err, req.OutRefundNo)
		}
		return nil, refundRefused(apiErr, req.OutRefundNo)
	}
	if err := a.verifyAnswer(ctx, method, rsp.SignData, rsp.Sign); err != nil {
		return nil, err
	}
	r := rsp.Response
	if r.OutTradeNo != "" && r.OutTradeNo != req.OutTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered a refund of %s about trade %q", req.OutTradeNo, r.OutTradeNo)
	}
	res := &cashier.RefundResult{
		OutTradeNo:  req.OutTradeNo,
		OutRefundNo: req.OutRefundNo,
		Status:      cashier.RefundSucceeded,
		Amount:      req.Amount,
	}
	if r.FundChange == fundChanged {
		a.log.InfoContext(ctx, "alipay: refunded", "out_trade_no", req.OutTradeNo, "out_request_no", req.OutRefundNo, "refund_fee", r.RefundFee)
		return res, nil
	}
	q, err := a.QueryRefund(ctx, cashier.Trade{OutTradeNo: req.OutTradeNo}, req.OutRefundNo)
	switch {
	case err != nil || q.Status != cashier.RefundSucceeded:
		// Accepted, not (yet) seen made: the caller asks again later.
		a.log.InfoContext(ctx, "alipay: refund accepted, not confirmed", "out_trade_no", req.OutTradeNo, "out_request_no", req.OutRefundNo, "err", err)
		res.Status = cashier.RefundPending
		return res, nil
	case q.Amount != req.Amount:
		return nil, cashier.Errorf(cashier.ECONFLICT, "alipay refund %s of trade %s was made for %s yuan, not %s", req.OutRefundNo, req.OutTradeNo, cashier.FormatYuan(q.Amount), cashier.FormatYuan(req.Amount))
	}
	return q, nil
}

// QueryRefund asks Alipay about the refund outRefundNo (out_request_no) of
// the attempt outTradeNo (alipay.trade.fastpay.refund.query). A refund
// Alipay does not know, or a trade it does not know, is ENOTFOUND.
func (a *Alipay) QueryRefund(ctx context.Context, t cashier.Trade, outRefundNo string) (*cashier.RefundResult, error) {
	outTradeNo := t.OutTradeNo
	const method = "alipay.trade.fastpay.refund.query"
	if err := checkRefundNos(outTradeNo, outRefundNo); err != nil {
		return nil, err
	}
	ctx, x := gopaykit.WithExchange(ctx)
	rsp, err := a.client.TradeFastPayRefundQuery(ctx, gopay.BodyMap{"out_trade_no": outTradeNo, "out_request_no": outRefundNo})
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
	return refundQueried(rsp.Response, outTradeNo, outRefundNo)
}

// refundQueried reads a verified answer of alipay.trade.fastpay.refund.query.
//
// Uncertain, and so kept here: Alipay answers an out_request_no it does not
// know with success and no refund fields, which is taken as ENOTFOUND; and
// its documentation says that a missing refund_status means "not received,
// or failed", which, with a refund_amount present, is taken as RefundPending
// so that nothing is given up on (or refunded again) while Alipay may still
// make it. REFUND_SUCCESS is the only status it documents.
func refundQueried(r *gopayalipay.TradeRefundQuery, outTradeNo, outRefundNo string) (*cashier.RefundResult, error) {
	if r.RefundAmount == "" && r.RefundStatus == "" {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "alipay has no refund %s of trade %s", outRefundNo, outTradeNo)
	}
	if (r.OutTradeNo != "" && r.OutTradeNo != outTradeNo) || (r.OutRequestNo != "" && r.OutRequestNo != outRefundNo) {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered a query for refund %s of %s about refund %q of %q", outRefundNo, outTradeNo, r.OutRequestNo, r.OutTradeNo)
	}
	res := &cashier.RefundResult{OutTradeNo: outTradeNo, OutRefundNo: outRefundNo}
	switch r.RefundStatus {
	case refundStatusSuccess:
		res.Status = cashier.RefundSucceeded
	case "":
		res.Status = cashier.RefundPending
	default:
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered unknown refund_status %q for refund %s", r.RefundStatus, outRefundNo)
	}
	var err error
	if res.Amount, err = cashier.ParseYuan(r.RefundAmount); err != nil || res.Amount <= 0 {
		return nil, cashier.Errorf(cashier.ECHANNEL, "alipay answered refund_amount %q for refund %s", r.RefundAmount, outRefundNo)
	}
	return res, nil
}

// refundRefused maps a refusal of alipay.trade.refund.
func refundRefused(apiErr *APIError, outRefundNo string) error {
	switch {
	case apiErr.Code == codeUnknownError || apiErr.SubCode == SubCodeSystemError:
		return cashier.WrapError(apiErr, cashier.EUNAVAILABLE, fmt.Sprintf("alipay could not tell whether refund %s was made (%s): ask again with the same refund number", outRefundNo, apiErr.message()))
	case slices.Contains(conflictSubCodes, apiErr.SubCode):
		return cashier.WrapError(apiErr, cashier.ECONFLICT, fmt.Sprintf("alipay cannot make refund %s: %s", outRefundNo, apiErr.message()))
	default:
		return cashier.WrapError(apiErr, cashier.ECHANNEL, "alipay: "+apiErr.message())
	}
}

// refundOutcomeUnknown turns the error of a refund call that got no usable
// answer into EUNAVAILABLE when Alipay may have made the refund all the
// same (an HTTP 5xx; no answer is EUNAVAILABLE already), so that the caller
// asks again rather than giving the refund up.
func refundOutcomeUnknown(err error, outRefundNo string) error {
	var status httpStatus
	if errors.As(err, &status) && status >= 500 {
		return cashier.WrapError(err, cashier.EUNAVAILABLE, fmt.Sprintf("alipay answered HTTP %d to refund %s: ask again with the same refund number", int(status), outRefundNo))
	}
	return err
}

// checkRefundNos enforces Alipay's lengths of out_trade_no and out_request_no.
func checkRefundNos(outTradeNo, outRefundNo string) error {
	if outTradeNo == "" || len(outTradeNo) > maxOutTradeNo {
		return cashier.Errorf(cashier.EINVALID, "alipay needs an out_trade_no of 1 to %d characters", maxOutTradeNo)
	}
	if outRefundNo == "" || len(outRefundNo) > maxOutRequestNo {
		return cashier.Errorf(cashier.EINVALID, "alipay needs a refund number (out_request_no) of 1 to %d characters", maxOutRequestNo)
	}
	return nil
}
