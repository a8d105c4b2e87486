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
	if !verify(a.cfg.PublicKey, data, values.Get("sign")) {
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
	// The type is not signed: what happened is read from data, and a type
	// that says otherwise is refused.
	typ := values.Get("type")
	if want, ok := paymentEvents[typ]; ok {
		n, err := paymentNotification([]byte(data))
		if err != nil {
			return nil, cashier.WrapError(err, cashier.EINVALID, "malformed adapay notification: "+cashier.ErrorMessage(err))
		}
		if n.Status != want {
			return nil, cashier.Errorf(cashier.EINVALID, "adapay notification %q about a payment that is %s", typ, n.RawStatus)
		}
		n.RawStatus = typ
		return n, nil
	}
	if want, ok := refundEvents[typ]; ok {
		return refundNotification(typ, want, []byte(data))
	}
	return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "adapay notification %q is not about a payment or a refund", typ)
}

// The webhook types cashier acts on, with what their data must say; a close
// notice is taken as payment.close or payment.close.succeeded.
var (
	paymentEvents = map[string]cashier.NotifyStatus{"payment.succeeded": cashier.NotifyPaid,
		"payment.failed": cashier.NotifyFailed, "payment.close": cashier.NotifyClosed, "payment.close.succeeded": cashier.NotifyClosed}
	refundEvents = map[string]cashier.RefundStatus{"refund.succeeded": cashier.RefundSucceeded, "refund.failed": cashier.RefundFailed}
)

// refundNotification reads a refund webhook's data, which must say want.
func refundNotification(typ string, want cashier.RefundStatus, data []byte) (*cashier.Notification, error) {
	var r refundObject
	if err := json.Unmarshal(data, &r); err != nil || r.RefundOrderNo == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "malformed adapay refund notification")
	}
	res, err := r.result()
	if err != nil {
		return nil, cashier.WrapError(err, cashier.EINVALID, "malformed adapay refund notification: "+cashier.ErrorMessage(err))
	}
	if res.Status != want {
		return nil, cashier.Errorf(cashier.EINVALID, "adapay notification %q about a refund that is %q", typ, r.Status)
	}
	return &cashier.Notification{ChannelTradeNo: r.PaymentID, RawStatus: typ, Refund: res}, nil
}
