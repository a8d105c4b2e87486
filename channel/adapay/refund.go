package adapay

import (
	"context"
	"encoding/json"
	"net/url"

	"cashier"
	"cashier/channel"
)

// refundObject is AdaPay's refund, as its answers, lists and webhooks give it.
type refundObject struct {
	ID            string `json:"id"`
	RefundID      string `json:"refund_id"` // in refund lists
	PaymentID     string `json:"payment_id"`
	RefundOrderNo string `json:"refund_order_no"`
	RefundAmt     string `json:"refund_amt"`
	Status        string `json:"status"`       // pending, succeeded, failed
	TransStatus   string `json:"trans_status"` // in refund lists: I/P processing, S succeeded, F failed
	ErrorMsg      string `json:"error_msg"`
}

// result reads a refund: its status from status or, in lists, trans_status.
// Uncertain (trans_status comes from one third-party adapter); kept here.
func (r refundObject) result() (*cashier.RefundResult, error) {
	res := &cashier.RefundResult{OutRefundNo: r.RefundOrderNo, ChannelRefundNo: r.ID}
	if res.ChannelRefundNo == "" {
		res.ChannelRefundNo = r.RefundID
	}
	if r.RefundAmt != "" {
		fen, err := cashier.ParseYuan(r.RefundAmt)
		if err != nil {
			return nil, err
		}
		res.Amount = fen
	}
	switch {
	case r.Status == "succeeded" || r.TransStatus == "S":
		res.Status = cashier.RefundSucceeded
	case r.Status == "failed" || r.TransStatus == "F":
		res.Status, res.Detail = cashier.RefundFailed, "AdaPay: "+r.ErrorMsg
	default:
		res.Status = cashier.RefundPending
	}
	return res, nil
}

// Refund asks AdaPay to refund part or all of a payment.
func (a *AdaPay) Refund(ctx context.Context, req cashier.RefundRequest) (*cashier.RefundResult, error) {
	if req.ChannelTradeNo == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "AdaPay never placed %s: nothing to refund", req.OutTradeNo)
	}
	data, err := a.call(ctx, "refund", "/v1/payments/"+url.PathEscape(req.ChannelTradeNo)+"/refunds", nil, map[string]string{
		"payment_id": req.ChannelTradeNo, "refund_order_no": req.OutRefundNo, "refund_amt": cashier.FormatYuan(req.Amount),
		"reason": channel.Clip(req.Reason, 100), "notify_url": req.NotifyURL,
	})
	if err != nil {
		// A refusal stays a channel error (not a conflict): a busy system
		// and a refund AdaPay will never make look alike, so the refund is
		// asked about and tried again, and settled as failed only when
		// refused several times over.
		return nil, err
	}
	var r refundObject
	if err := json.Unmarshal(data, &r); err != nil || r.RefundOrderNo != req.OutRefundNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay's answer to the refund is about another refund")
	}
	res, err := r.result()
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, "AdaPay's refund is malformed")
	}
	res.OutTradeNo = req.OutTradeNo
	return res, nil
}

// QueryRefund finds a refund among the payment's refunds.
func (a *AdaPay) QueryRefund(ctx context.Context, t cashier.Trade, outRefundNo string) (*cashier.RefundResult, error) {
	if t.ChannelTradeNo == "" {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "AdaPay never placed %s", t.OutTradeNo)
	}
	data, err := a.call(ctx, "query refunds", "/v1/payments/refunds", url.Values{"payment_id": {t.ChannelTradeNo}}, nil)
	if err != nil {
		if e, ok := refusalOf(err); ok && notFound(e) {
			return nil, cashier.WrapError(err, cashier.ENOTFOUND, "AdaPay has no refunds of "+t.ChannelTradeNo)
		}
		return nil, err
	}
	var list struct {
		Refunds []refundObject `json:"refunds"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, cashier.Errorf(cashier.ECHANNEL, "AdaPay's refund list is malformed")
	}
	for _, r := range list.Refunds {
		if r.RefundOrderNo == outRefundNo {
			res, err := r.result()
			if err != nil {
				return nil, cashier.WrapError(err, cashier.ECHANNEL, "AdaPay's refund is malformed")
			}
			res.OutTradeNo = t.OutTradeNo
			return res, nil
		}
	}
	return nil, cashier.Errorf(cashier.ENOTFOUND, "AdaPay has no refund %s", outRefundNo)
}
