package wechat

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-pay/gopay"
	gopaywechat3 "github.com/go-pay/gopay/wechat/v3"

	"cashier"
)

// v3RefundOriginalType is the original_type of refund notification resources.
const v3RefundOriginalType = "refund"

// refundV3 asks for a refund (POST /v3/refund/domestic/refunds).
func (w *WeChat) refundV3(ctx context.Context, req cashier.RefundRequest, reason string) (*cashier.RefundResult, error) {
	bm := make(gopay.BodyMap)
	bm.Set("out_trade_no", req.OutTradeNo).
		Set("out_refund_no", req.OutRefundNo).
		SetBodyMap("amount", func(b gopay.BodyMap) {
			b.Set("refund", req.Amount).Set("total", req.Total).Set("currency", "CNY")
		})
	if reason != "" {
		bm.Set("reason", reason)
	}
	if req.NotifyURL != "" {
		bm.Set("notify_url", req.NotifyURL)
	}
	x, err := w.callV3(ctx, OpRefund, func(ctx context.Context) error {
		_, err := w.v3.V3Refund(ctx, bm)
		return err
	})
	if err != nil {
		return nil, err
	}
	res, err := v3RefundAnswer(x.Body, req.OutTradeNo, req.OutRefundNo)
	if err != nil {
		return nil, err
	}
	if res.Amount != req.Amount {
		return nil, cashier.Errorf(cashier.ECONFLICT, "WeChat Pay has refund %s for %s yuan, not %s", req.OutRefundNo, cashier.FormatYuan(res.Amount), cashier.FormatYuan(req.Amount))
	}
	return res, nil
}

// queryRefundV3 asks about one refund (GET /v3/refund/domestic/refunds/{out_refund_no}).
func (w *WeChat) queryRefundV3(ctx context.Context, outTradeNo, outRefundNo string) (*cashier.RefundResult, error) {
	x, err := w.callV3(ctx, OpRefundQuery, func(ctx context.Context) error {
		_, err := w.v3.V3RefundQuery(ctx, outRefundNo, nil)
		return err
	})
	if err != nil {
		if apiErr, ok := asAPIError(err); ok && apiErr.is(CodeNotExistV3) {
			return nil, cashier.WrapError(apiErr, cashier.ENOTFOUND, fmt.Sprintf("WeChat Pay has no refund %s", outRefundNo))
		}
		return nil, err
	}
	return v3RefundAnswer(x.Body, outTradeNo, outRefundNo)
}

// v3RefundAnswer reads a verified answer of either refund call: both
// answer the refund object, which gopay's RefundQueryResponse reads.
func v3RefundAnswer(body []byte, outTradeNo, outRefundNo string) (*cashier.RefundResult, error) {
	var r gopaywechat3.RefundQueryResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer about refund %s is malformed", outRefundNo))
	}
	if r.OutTradeNo != outTradeNo || r.OutRefundNo != outRefundNo {
		return nil, cashier.Errorf(cashier.ECHANNEL, "WeChat Pay answered about refund %q of %q, not %s of %s", r.OutRefundNo, r.OutTradeNo, outRefundNo, outTradeNo)
	}
	var amount int64
	if r.Amount != nil {
		amount = int64(r.Amount.Refund)
	}
	res, err := refundResult(r.OutTradeNo, r.OutRefundNo, r.RefundId, r.Status, amount)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.ECHANNEL, fmt.Sprintf("WeChat Pay's answer about refund %s is malformed", outRefundNo))
	}
	return res, nil
}

// verifyRefundNotificationV3 reads the resource of a v3 refund notification
// (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED), whose signature the
// caller checked, as payment notifications are. It is decrypted to bytes
// (gopay's V3DecryptNotifyCipherTextToBytes, as payments are) and read
// with gopay's V3DecryptRefundResult: gopay's V3DecryptRefundNotifyCipherText
// would do both at once, and so could not tell a wrong APIv3 key
// (EFORBIDDEN) from a resource that cannot be read (EINVALID).
func (w *WeChat) verifyRefundNotificationV3(note *gopaywechat3.V3NotifyReq) (*cashier.Notification, error) {
	plain, err := decryptResource(note.Resource, w.apiV3Key)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EFORBIDDEN, "wechat refund notification resource does not decrypt: check the APIv3 key")
	}
	var r gopaywechat3.V3DecryptRefundResult
	if err := json.Unmarshal(plain, &r); err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat refund notification: the refund is not readable")
	}
	// A refund resource names the merchant, not the app.
	switch {
	case r.Mchid == "":
		return nil, cashier.Errorf(cashier.EINVALID, "malformed wechat refund notification: no mchid")
	case r.Mchid != w.mchID:
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "wechat refund notification is for mchid %q, not this merchant's", r.Mchid)
	}
	var amount int64
	if r.Amount != nil {
		amount = int64(r.Amount.Refund)
	}
	res, err := refundResult(r.OutTradeNo, r.OutRefundNo, r.RefundId, r.RefundStatus, amount)
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed wechat refund notification: "+err.Error())
	}
	return &cashier.Notification{
		OutTradeNo:     r.OutTradeNo,
		ChannelTradeNo: r.TransactionId,
		RawStatus:      r.RefundStatus,
		Refund:         res,
	}, nil
}
