package adapay

import (
	"context"
	"encoding/json"
	"net/url"

	"cashier"
)

// VerifyNotification checks a webhook: a form whose sign is AdaPay's
// signature of its data, for this app, about a payment or a refund.
func (a *AdaPay) VerifyNotification(ctx context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	if msg == nil || len(msg.Body) == 0 {
		return nil, cashier.Errorf(cashier.EINVALID, "empty adapay notification")
	}
	values, err := url.ParseQuery(string(msg.Body))
	if err != nil || values.Get("data") == "" || values.Get("sign") == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed adapay notification: not a signed form")
	}
	data := values.Get("data")
	if !Verify(a.cfg.PublicKey, data, values.Get("sign")) {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "adapay notification signature does not verify")
	}
	// AdaPay signs every merchant's webhooks with one key: only the app_id
	// inside data is signed. The form's is unsigned, but can only refuse.
	var signed struct {
		AppID string `json:"app_id"`
	}
	json.Unmarshal([]byte(data), &signed)
	for _, app := range []string{signed.AppID, values.Get("app_id")} {
		if app != "" && app != a.cfg.AppID {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "adapay notification is for app %q", app)
		}
	}
	typ := values.Get("type")
	switch typ {
	case "payment.succeeded", "payment.failed", "payment.close.succeeded":
		n, err := paymentNotification([]byte(data))
		if err != nil {
			return nil, cashier.WrapError(err, cashier.EINVALID, "malformed adapay notification: "+cashier.ErrorMessage(err))
		}
		n.RawStatus = typ
		switch typ {
		case "payment.succeeded":
			n.Status = cashier.NotifyPaid
		case "payment.failed":
			n.Status = cashier.NotifyFailed
		default:
			n.Status = cashier.NotifyClosed
		}
		return n, nil
	case "refund.succeeded", "refund.failed":
		return refundNotification(typ, []byte(data))
	}
	return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "adapay notification %q is not about a payment or a refund", typ)
}

// refundNotification reads a refund webhook's data.
func refundNotification(typ string, data []byte) (*cashier.Notification, error) {
	var r refundObject
	if err := json.Unmarshal(data, &r); err != nil || r.RefundOrderNo == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed adapay refund notification")
	}
	res, err := r.result()
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed adapay refund notification: "+cashier.ErrorMessage(err))
	}
	res.Status = cashier.RefundSucceeded
	if typ == "refund.failed" {
		res.Status, res.Detail = cashier.RefundFailed, "AdaPay: "+r.ErrorMsg
	}
	return &cashier.Notification{ChannelTradeNo: r.PaymentID, RawStatus: typ, Refund: res}, nil
}
