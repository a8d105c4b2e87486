package alipay

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"github.com/go-pay/gopay"
	gopayalipay "github.com/go-pay/gopay/alipay"

	"cashier"
	"cashier/internal/chinatime"
)

// tradeStatuses maps Alipay's trade_status to what it means for the payment.
var tradeStatuses = map[string]cashier.NotifyStatus{
	"TRADE_SUCCESS":  cashier.NotifyPaid,
	"TRADE_FINISHED": cashier.NotifyPaid, // no refund possible any more; can follow TRADE_SUCCESS much later
	"WAIT_BUYER_PAY": cashier.NotifyPending,
	"TRADE_CLOSED":   cashier.NotifyClosed,
}

// VerifyNotification verifies an asynchronous notification (a form POST) and
// reports what it says. The body is decoded exactly once, so a '+' that
// arrives as "%2B" stays a '+', and a '+' that arrives bare is a space, as in
// any form.
//
// A refund made with alipay.trade.refund is notified too, to the trade's
// notify_url, as a trade_status_sync carrying out_biz_no (the refund's
// out_request_no) and refund_fee: its trade_status is TRADE_CLOSED after a
// refund in full, which does not mean that the trade was closed unpaid. It
// is reported as a refund notification (Refund set, Status empty): a
// refund made (Alipay refunds synchronously) whose Amount is 0, unknown,
// since the notification gives only the trade's refunded total.
func (a *Alipay) VerifyNotification(ctx context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	if msg == nil {
		return nil, cashier.Errorf(cashier.EINVALID, "empty alipay notification")
	}
	params, err := a.verifySigned(string(msg.Body))
	if err != nil {
		a.log.DebugContext(ctx, "alipay: notification rejected", "err", err)
		return nil, err
	}
	if params["out_biz_no"] != "" && params["refund_fee"] != "" {
		return a.refundNotification(ctx, params)
	}
	n := &cashier.Notification{
		OutTradeNo:     params["out_trade_no"],
		ChannelTradeNo: params["trade_no"],
		RawStatus:      params["trade_status"],
	}
	if n.OutTradeNo == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay notification without out_trade_no")
	}
	if n.Amount, err = cashier.ParseYuan(params["total_amount"]); err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay notification for %s: total_amount %q is not a yuan amount", n.OutTradeNo, params["total_amount"])
	}
	status, ok := tradeStatuses[n.RawStatus]
	if !ok {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay notification for %s: unknown trade_status %q", n.OutTradeNo, n.RawStatus)
	}
	n.Status = status
	if n.PaidAt, err = a.parseTime(params["gmt_payment"]); err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay notification for %s: gmt_payment %q is not a time", n.OutTradeNo, params["gmt_payment"])
	}
	a.log.InfoContext(ctx, "alipay: notification verified", "out_trade_no", n.OutTradeNo, "trade_status", n.RawStatus, "notify_id", params["notify_id"])
	return n, nil
}

// refundNotification reads a verified notification about a refund.
func (a *Alipay) refundNotification(ctx context.Context, params map[string]string) (*cashier.Notification, error) {
	n := &cashier.Notification{
		OutTradeNo:     params["out_trade_no"],
		ChannelTradeNo: params["trade_no"],
		RawStatus:      params["trade_status"],
		Refund: &cashier.RefundResult{
			OutTradeNo:  params["out_trade_no"],
			OutRefundNo: params["out_biz_no"],
			Status:      cashier.RefundSucceeded,
		},
	}
	if n.OutTradeNo == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay refund notification without out_trade_no")
	}
	if _, err := cashier.ParseYuan(params["refund_fee"]); err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "alipay refund notification for %s: refund_fee %q is not a yuan amount", n.OutTradeNo, params["refund_fee"])
	}
	a.log.InfoContext(ctx, "alipay: refund notification verified", "out_trade_no", n.OutTradeNo, "out_biz_no", n.Refund.OutRefundNo,
		"refund_fee", params["refund_fee"], "trade_status", n.RawStatus, "notify_id", params["notify_id"])
	return n, nil
}

// VerifyReturn verifies the parameters Alipay appends to return_url when it
// sends the browser back after a web/wap payment, and returns the attempt's
// out_trade_no. A return says where to send the buyer, not that the payment
// succeeded: only the notification (or a query) does.
func (a *Alipay) VerifyReturn(rawQuery string) (outTradeNo string, err error) {
	params, err := a.verifySigned(rawQuery)
	if err != nil {
		return "", err
	}
	if params["out_trade_no"] == "" {
		return "", cashier.Errorf(cashier.EINVALID, "alipay return without out_trade_no")
	}
	return params["out_trade_no"], nil
}

// Reply is the body Alipay expects: "success" stops the resending, anything
// else makes Alipay try again later.
func (a *Alipay) Reply(ok bool) cashier.NotifyReply {
	body := "fail"
	if ok {
		body = "success"
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(body)}
}

// verifySigned decodes form-encoded params signed by Alipay the way it signs
// notifications and returns (all but sign and sign_type), verifies the
// signature and that the message is for this merchant.
func (a *Alipay) verifySigned(encoded string) (map[string]string, error) {
	values, err := url.ParseQuery(encoded)
	if err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed alipay message: not form-encoded")
	}
	params := make(map[string]string, len(values))
	// What is signed is every parameter but sign and sign_type, as gopay
	// encodes them for Alipay.
	bm := make(gopay.BodyMap, len(values))
	for k, vs := range values {
		// Alipay never repeats a parameter; a repeated one could be verified
		// in one copy and read in another.
		if len(vs) != 1 {
			return nil, cashier.Errorf(cashier.EINVALID, "malformed alipay message: parameter %q repeated", k)
		}
		params[k] = vs[0]
		if k != "sign" && k != "sign_type" {
			bm.Set(k, vs[0])
		}
	}
	if params["sign"] == "" {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "alipay message is not signed")
	}
	// gopay would verify an "RSA" (SHA1) signature too; only RSA2 is accepted.
	if st := params["sign_type"]; st != "" && st != gopayalipay.RSA2 {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "alipay message signed with %q, only RSA2 is accepted", st)
	}
	// SHA256withRSA against the platform key parsed at start-up (in
	// certificate mode, the key of the Alipay public certificate).
	sig, err := base64.StdEncoding.DecodeString(params["sign"])
	sum := sha256.Sum256([]byte(bm.EncodeAliPaySignParams()))
	if err != nil || rsa.VerifyPKCS1v15(a.platformPub, crypto.SHA256, sum[:], sig) != nil {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "alipay message signature does not verify")
	}
	if params["app_id"] != a.appID {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "alipay message is for app_id %q, not this merchant's", params["app_id"])
	}
	if a.sellerID != "" && params["seller_id"] != a.sellerID {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "alipay message is for seller_id %q, not this merchant's", params["seller_id"])
	}
	return params, nil
}

// parseTime parses an Alipay timestamp, Beijing time; "" is the zero time.
func (a *Alipay) parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return chinatime.Parse(timeLayout, s)
}
