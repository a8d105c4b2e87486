package apple

import (
	"context"
	"encoding/json"
	"fmt"

	"cashier"
)

// notification is the payload of an App Store Server Notification V2
// (responseBodyV2DecodedPayload): the fields cashier reads.
type notification struct {
	NotificationType string `json:"notificationType"`
	Subtype          string `json:"subtype"`
	NotificationUUID string `json:"notificationUUID"`
	SignedDate       int64  `json:"signedDate"`
	Data             *struct {
		AppAppleID            int64  `json:"appAppleId"`
		BundleID              string `json:"bundleId"`
		Environment           string `json:"environment"`
		SignedTransactionInfo string `json:"signedTransactionInfo"`
	} `json:"data"`
}

// What the notification types mean for an attempt.
var notificationStatus = map[string]cashier.NotifyStatus{
	"ONE_TIME_CHARGE": cashier.NotifyPaid,     // a consumable or non-consumable bought
	"REFUND":          cashier.NotifyRefunded, // Apple gave the buyer the money back
	"REVOKE":          cashier.NotifyRefunded, // Family Sharing took the purchase away
}

// VerifyNotification verifies an App Store Server Notification V2,
// {"signedPayload": JWS}, and the signed transaction inside it. A purchase
// (ONE_TIME_CHARGE) names its attempt by appAccountToken; a refund
// (REFUND, REVOKE) names the transaction it takes back. Every other type
// (CONSUMPTION_REQUEST, REFUND_DECLINED, TEST, subscriptions…) names no
// attempt: it is recorded and acknowledged.
func (a *Apple) VerifyNotification(_ context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	var body struct {
		SignedPayload string `json:"signedPayload"`
	}
	if err := json.Unmarshal(msg.Body, &body); err != nil || body.SignedPayload == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "not an App Store Server Notification: want {\"signedPayload\": …}")
	}
	var p notification
	if err := a.verifier.verify(body.SignedPayload, &p); err != nil {
		return nil, err
	}
	if p.NotificationType == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "signed payload without notificationType")
	}
	raw := p.NotificationType
	if p.Subtype != "" {
		raw += "/" + p.Subtype
	}
	if p.Data == nil {
		return &cashier.Notification{Status: cashier.NotifyPending, RawStatus: raw}, nil
	}
	if err := a.checkApp(p.Data.BundleID, p.Data.Environment); err != nil {
		return nil, err
	}
	if p.Data.Environment == Production && a.cfg.AppAppleID != 0 && p.Data.AppAppleID != a.cfg.AppAppleID {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "appAppleId %d is not this app's (%d)", p.Data.AppAppleID, a.cfg.AppAppleID)
	}
	status, ok := notificationStatus[p.NotificationType]
	if p.Data.SignedTransactionInfo == "" || !ok {
		return &cashier.Notification{Status: cashier.NotifyPending, RawStatus: raw, Environment: p.Data.Environment}, nil
	}
	t, err := a.verifyTransaction(p.Data.SignedTransactionInfo)
	if err != nil {
		return nil, fmt.Errorf("signedTransactionInfo: %w", err)
	}
	// A refund names no attempt: the transaction it takes back does.
	return t.purchase(status, raw)
}
