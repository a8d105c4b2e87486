package wechat

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"

	"cashier"
)

// maxRefundCount bounds the refunds a v2 refundquery answer is searched
// for: WeChat Pay allows 50 per trade.
const maxRefundCount = 50

// refundV2 asks for a refund (/secapi/pay/refund), which gopay sends with
// its TLS client: the one that presents Config.ClientCert.
func (w *WeChat) refundV2(ctx context.Context, req cashier.RefundRequest, reason string) (*cashier.RefundResult, error) {
	bm := make(gopay.BodyMap)
	bm.Set("out_trade_no", req.OutTradeNo).
		Set("out_refund_no", req.OutRefundNo).
		Set("total_fee", strconv.FormatInt(req.Total, 10)).
		Set("refund_fee", strconv.FormatInt(req.Amount, 10))
	if reason != "" {
		bm.Set("refund_desc", reason)
	}
	if req.NotifyURL != "" {
		bm.Set("notify_url", req.NotifyURL)
	}
	ans, err := w.callV2(ctx, OpRefund, bm, func(ctx context.Context, bm gopay.BodyMap) error {
		_, _, err := w.v2.Refund(ctx, bm)
		return err
	})
	if err != nil {
		return nil, err
	}
	if ans.GetString("out_trade_no") != req.OutTradeNo || ans.GetString("out_refund_no") != req.OutRefundNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay answered refund %s of %s about refund %q of %q",
			req.OutRefundNo, req.OutTradeNo, ans.GetString("out_refund_no"), ans.GetString("out_trade_no"))
	}
	// Taken, not made: the status comes by notification or refundquery.
	res, err := refundResult(req.OutTradeNo, req.OutRefundNo, ans.GetString("refund_id"), "PROCESSING", v2RefundFee(ans, ""))
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer to refund %s is malformed", req.OutRefundNo))
	}
	if res.Amount != req.Amount {
		return nil, cashier.Errorf(cashier.ECONFLICT, "WeChat Pay has refund %s for %s yuan, not %s", req.OutRefundNo, cashier.FormatYuan(res.Amount), cashier.FormatYuan(req.Amount))
	}
	return res, nil
}

// queryRefundV2 asks about one refund (/pay/refundquery by out_refund_no).
// The answer lists refunds as refund_status_$n, refund_fee_$n…: the one
// named out_refund_no is read.
func (w *WeChat) queryRefundV2(ctx context.Context, outTradeNo, outRefundNo string) (*cashier.RefundResult, error) {
	ans, err := w.callV2(ctx, OpRefundQuery, gopay.BodyMap{"out_refund_no": outRefundNo}, func(ctx context.Context, bm gopay.BodyMap) error {
		_, _, err := w.v2.QueryRefund(ctx, bm)
		return err
	})
	if err != nil {
		if apiErr, ok := asAPIError(err); ok && apiErr.is(CodeRefundNotExist, CodeOrderNotExist) {
			return nil, cashier.WrapError(apiErr, cashier.ENOTFOUND, fmt.Sprintf("WeChat Pay has no refund %s", outRefundNo))
		}
		return nil, err
	}
	if ans.GetString("out_trade_no") != outTradeNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay answered a query for refund %s of %s about trade %q", outRefundNo, outTradeNo, ans.GetString("out_trade_no"))
	}
	count, err := strconv.Atoi(ans.GetString("refund_count"))
	if err != nil || count < 0 {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer about refund %s has refund_count %q", outRefundNo, ans.GetString("refund_count"))
	}
	for i := range min(count, maxRefundCount) {
		n := "_" + strconv.Itoa(i)
		if ans.GetString("out_refund_no"+n) != outRefundNo {
			continue
		}
		res, err := refundResult(outTradeNo, outRefundNo, ans.GetString("refund_id"+n), ans.GetString("refund_status"+n), v2RefundFee(ans, n))
		if err != nil {
			return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer about refund %s is malformed", outRefundNo))
		}
		return res, nil
	}
	return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay's answer about refund %s does not list it", outRefundNo)
}

// v2RefundFee is refund_fee<suffix> in fen, or settlement_refund_fee<suffix>
// when only that is given; 0 when neither is an amount.
func v2RefundFee(fields gopay.BodyMap, suffix string) int64 {
	for _, k := range []string{"refund_fee", "settlement_refund_fee"} {
		if fee, err := parseFen(fields.GetString(k + suffix)); err == nil {
			return fee
		}
	}
	return 0
}

// verifyRefundNotificationV2 reads a v2 refund notification: return_code,
// appid, mch_id, nonce_str and req_info, and no sign. req_info, AES-256-ECB
// with the MD5 of the API key (gopay's DecryptRefundNotifyReqInfo), is all
// that authenticates it: one that does not decrypt is EFORBIDDEN. ECB
// proves no integrity beyond that; the refund's state can be confirmed with
// QueryRefund.
func (w *WeChat) verifyRefundNotificationV2(fields gopay.BodyMap) (*cashier.Notification, error) {
	info, err := gopaywechat.DecryptRefundNotifyReqInfo(fields.GetString("req_info"), w.apiKey)
	if err != nil {
		// gopay's error quotes what it decrypted: it is not passed on.
		return nil, cashier.WrapError(errors.New("req_info does not decrypt"), cashier.EFORBIDDEN, "wechat refund notification does not decrypt with the API key")
	}
	if rc := fields.GetString("return_code"); rc != codeSuccess {
		return nil, cashier.Errorf(cashier.EINVALID, "wechat refund notification has return_code %q", rc)
	}
	if err := w.checkMerchant(fields.GetString("appid"), fields.GetString("mch_id")); err != nil {
		return nil, err
	}
	fee := v2RefundFee(gopay.BodyMap{"refund_fee": info.RefundFee, "settlement_refund_fee": info.SettlementRefundFee}, "")
	res, err := refundResult(info.OutTradeNo, info.OutRefundNo, info.RefundId, info.RefundStatus, fee)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat refund notification: "+err.Error())
	}
	return &cashier.Notification{
		OutTradeNo:     info.OutTradeNo,
		ChannelTradeNo: info.TransactionId,
		RawStatus:      info.RefundStatus,
		Refund:         res,
	}, nil
}
