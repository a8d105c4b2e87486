package alipay

import (
	"context"
	"fmt"
	"time"

	"cashier/internal/chinatime"

	"cashier"
)

// Refund sub-codes, Alipay's own.
const (
	subRefundAmountExceeded = "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
	subDiscordantRepeat     = "ACQ.DISCORDANT_REPEAT_REQUEST"
	subTradeHasClose        = "ACQ.TRADE_HAS_CLOSE"
	subTradeStatusError     = "ACQ.TRADE_STATUS_ERROR"
)

// alipayRefundKey names a refund: out_request_no is unique per trade only.
type alipayRefundKey struct{ outTradeNo, outRequestNo string }

// alipayRefund is one refund as the simulated Alipay knows it. Alipay
// refunds synchronously: a refund it keeps is made.
type alipayRefund struct {
	OutRequestNo string
	Amount       string // yuan, as Alipay answers it
	Fen          int64
	Reason       string
	At           time.Time
}

// apiRefund refunds part or all of a paid trade (alipay.trade.refund), once
// per out_request_no: asking again with the same one and the same amount
// answers the refund already made, with fund_change "N", as Alipay does.
// Refunds may not add up to more than the trade's amount.
func (a *Alipay) apiRefund(ctx context.Context, outTradeNo string, biz alipayBiz) map[string]string {
	fen, err := cashier.ParseYuan(biz.RefundAmount.String())
	if err != nil || fen <= 0 {
		return businessFailed("ACQ.INVALID_PARAMETER", fmt.Sprintf("参数无效: refund_amount %q is not a positive yuan amount", biz.RefundAmount.String()))
	}
	// Without out_request_no, Alipay takes the refund for the whole trade's.
	key := alipayRefundKey{outTradeNo, biz.OutRequestNo}
	if key.outRequestNo == "" {
		key.outRequestNo = outTradeNo
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.trades[outTradeNo]
	if !ok {
		return tradeNotExist()
	}
	if r, ok := a.refunds[key]; ok {
		if r.Fen != fen {
			return businessFailed(subDiscordantRepeat, fmt.Sprintf("请求信息不一致 (out_request_no %s was refunded %s yuan)", key.outRequestNo, r.Amount))
		}
		return a.refundAnswer(t, r, false)
	}
	switch t.Status {
	case statusSuccess:
	case statusClosed:
		return businessFailed(subTradeHasClose, "交易已经关闭 (the trade is closed)")
	default:
		return businessFailed(subTradeStatusError, fmt.Sprintf("交易状态不合法 (the trade is %s)", t.Status))
	}
	total, err := cashier.ParseYuan(t.TotalAmount)
	if err != nil {
		return businessFailed("ACQ.SYSTEM_ERROR", "系统错误 (the trade's amount is unreadable)")
	}
	if t.RefundedFen+fen > total {
		return businessFailed(subRefundAmountExceeded, fmt.Sprintf("退款金额超限 (%s yuan left to refund)", cashier.FormatYuan(total-t.RefundedFen)))
	}
	r := &alipayRefund{
		OutRequestNo: key.outRequestNo,
		Amount:       cashier.FormatYuan(fen),
		Fen:          fen,
		Reason:       biz.RefundReason,
		At:           a.now(),
	}
	if a.refunds == nil {
		a.refunds = make(map[alipayRefundKey]*alipayRefund)
	}
	a.refunds[key] = r
	t.RefundedFen += fen
	a.log().InfoContext(ctx, "sandbox alipay: refunded", "out_trade_no", outTradeNo, "out_request_no", key.outRequestNo, "refund_amount", r.Amount)
	return a.refundAnswer(t, r, true)
}

// refundAnswer is alipay.trade.refund's answer. refund_fee is the trade's
// refunded total; fund_change says whether this call moved money. Called
// with a.mu held.
func (a *Alipay) refundAnswer(t *alipayTrade, r *alipayRefund, moved bool) map[string]string {
	fundChange := "N"
	if moved {
		fundChange = "Y"
	}
	return map[string]string{
		"code":           codeSuccess,
		"msg":            "Success",
		"out_trade_no":   t.OutTradeNo,
		"trade_no":       t.TradeNo,
		"buyer_logon_id": "sandbox***@example.com",
		"buyer_user_id":  a.buyerID(),
		"fund_change":    fundChange,
		"refund_fee":     cashier.FormatYuan(t.RefundedFen),
		"send_back_fee":  r.Amount,
		"gmt_refund_pay": r.At.In(chinatime.Location()).Format(alipayTimeLayout),
	}
}

// apiRefundQuery answers one refund (alipay.trade.fastpay.refund.query). A
// refund it does not know is answered with success and no refund fields, as
// Alipay answers it.
func (a *Alipay) apiRefundQuery(outTradeNo, outRequestNo string) map[string]string {
	if outRequestNo == "" {
		return businessFailed("ACQ.INVALID_PARAMETER", "参数无效: out_request_no is required")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.trades[outTradeNo]
	if !ok {
		return tradeNotExist()
	}
	r, ok := a.refunds[alipayRefundKey{outTradeNo, outRequestNo}]
	if !ok {
		return map[string]string{"code": codeSuccess, "msg": "Success"}
	}
	resp := map[string]string{
		"code":           codeSuccess,
		"msg":            "Success",
		"out_trade_no":   t.OutTradeNo,
		"trade_no":       t.TradeNo,
		"out_request_no": r.OutRequestNo,
		"total_amount":   t.TotalAmount,
		"refund_amount":  r.Amount,
		"refund_status":  "REFUND_SUCCESS",
		"send_back_fee":  r.Amount,
		"gmt_refund_pay": r.At.In(chinatime.Location()).Format(alipayTimeLayout),
	}
	if r.Reason != "" {
		resp["refund_reason"] = r.Reason
	}
	return resp
}
