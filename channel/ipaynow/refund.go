package ipaynow

import (
	"context"
	"strconv"

	"cashier"
	"cashier/channel"
)

// Refund asks iPayNow to refund part or all of an order (R001). The request
// is signed without signType, which is added after; so are the answers.
func (c *IPayNow) Refund(ctx context.Context, req cashier.RefundRequest) (*cashier.RefundResult, error) {
	if req.Amount <= 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "refund amount must be at least 0.01 yuan")
	}
	fields := map[string]string{"funcode": "R001", "appId": c.cfg.AppID, "mhtOrderNo": req.OutTradeNo,
		"mhtRefundNo": req.OutRefundNo, "amount": strconv.FormatInt(req.Amount, 10), "reason": channel.Clip(req.Reason, 100),
		"mhtCharset": "UTF-8"}
	if fields["reason"] == "" {
		fields["reason"] = "refund"
	}
	fields["mhtSignature"] = sign(c.cfg.AppKey, fields, "mhtSignature", "signType")
	fields["signType"] = "MD5"
	ans, err := c.call(ctx, "R001", c.cfg.RefundURL+"refundOrder", fields, false)
	if err != nil {
		return nil, err
	}
	if ans["responseCode"] != "R000" {
		// iPayNow's refusal codes are not public: a busy system and a refund
		// it will never make look alike. As a channel error, the refund is
		// asked about and tried again, and settled as failed only when
		// refused several times over.
		return nil, c.refused("R001", ans)
	}
	return refundResult(req.OutTradeNo, req.OutRefundNo, ans)
}

// QueryRefund asks iPayNow how a refund went (Q001).
func (c *IPayNow) QueryRefund(ctx context.Context, t cashier.Trade, outRefundNo string) (*cashier.RefundResult, error) {
	fields := map[string]string{"funcode": "Q001", "appId": c.cfg.AppID, "mhtRefundNo": outRefundNo, "mhtCharset": "UTF-8"}
	fields["mhtSignature"] = sign(c.cfg.AppKey, fields, "mhtSignature", "signType")
	fields["signType"] = "MD5"
	ans, err := c.call(ctx, "Q001", c.cfg.RefundURL+"refundQuery", fields, false)
	if err != nil {
		return nil, err
	}
	if ans["responseCode"] != "R000" {
		if notFound(ans) {
			return nil, cashier.Errorf(cashier.ENOTFOUND, "iPayNow has no refund %s", outRefundNo)
		}
		return nil, c.refused("Q001", ans)
	}
	return refundResult(t.OutTradeNo, outRefundNo, ans)
}

// refundResult reads a refund answer. tradeStatus A004 is accepted, not
// made yet; A001 made; A002 failed (the samples show A004 and A001; the
// rest is uncertain, and kept here).
func refundResult(outTradeNo, outRefundNo string, ans map[string]string) (*cashier.RefundResult, error) {
	if ans["mhtRefundNo"] != "" && ans["mhtRefundNo"] != outRefundNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow answered about refund %s", ans["mhtRefundNo"])
	}
	res := &cashier.RefundResult{OutTradeNo: outTradeNo, OutRefundNo: outRefundNo, ChannelRefundNo: ans["nowPayOrderNo"]}
	if amt := ans["amount"]; amt != "" {
		fen, err := strconv.ParseInt(amt, 10, 64)
		if err != nil {
			return nil, cashier.Errorf(cashier.ECHANNEL, "iPayNow's refund answer has amount %q", amt)
		}
		res.Amount = fen
	}
	switch ans["tradeStatus"] {
	case "A001":
		res.Status = cashier.RefundSucceeded
	case "A002":
		res.Status, res.Detail = cashier.RefundFailed, "iPayNow: "+ans["responseMsg"]
	default:
		res.Status = cashier.RefundPending
	}
	return res, nil
}
