package apple

import (
	"fmt"
	"slices"
	"time"

	"cashier"
)

// transaction is the payload of a StoreKit 2 signed transaction
// (JWSTransactionDecodedPayload): the fields cashier reads.
type transaction struct {
	TransactionID         string `json:"transactionId"`
	OriginalTransactionID string `json:"originalTransactionId"`
	BundleID              string `json:"bundleId"`
	ProductID             string `json:"productId"`
	PurchaseDate          int64  `json:"purchaseDate"`
	Quantity              int    `json:"quantity"`
	Type                  string `json:"type"`
	AppAccountToken       string `json:"appAccountToken"`
	SignedDate            int64  `json:"signedDate"`
	Environment           string `json:"environment"`
	RevocationDate        int64  `json:"revocationDate"`
	Price                 int64  `json:"price"` // thousandths of the currency's unit
	Currency              string `json:"currency"`
}

// Environments of the App Store.
const (
	Production = "Production"
	Sandbox    = "Sandbox"
)

// purchasable are the product types an order buys: one purchase, once.
// Auto-renewable subscriptions are not orders.
var purchasable = []string{"Consumable", "Non-Consumable", "Non-Renewing Subscription"}

// checkApp checks that data signed by Apple is for this app, in an
// environment this server accepts: otherwise it is genuine but not ours.
func (a *Apple) checkApp(bundleID, environment string) error {
	if bundleID != a.cfg.BundleID {
		return cashier.Errorf(cashier.EUNPROCESSABLE, "bundleId %q is not this app's (%s)", bundleID, a.cfg.BundleID)
	}
	switch {
	case environment == Production:
	case environment == Sandbox && a.cfg.AcceptSandbox:
	default:
		return cashier.Errorf(cashier.EUNPROCESSABLE, "environment %q is not accepted here (apple.accept_sandbox is %t)", environment, a.cfg.AcceptSandbox)
	}
	return nil
}

// verifyTransaction verifies a signed transaction of this app.
func (a *Apple) verifyTransaction(jws string) (*transaction, error) {
	var t transaction
	if err := a.verifier.verify(jws, &t); err != nil {
		return nil, err
	}
	if t.TransactionID == "" || t.ProductID == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "signed transaction without transactionId or productId")
	}
	if err := a.checkApp(t.BundleID, t.Environment); err != nil {
		return nil, err
	}
	return &t, nil
}

// purchase is what a verified transaction says was bought. A transaction
// that names no attempt (no appAccountToken) has no OutTradeNo: cashier
// finds its attempt by what else it knows.
func (t *transaction) purchase(status cashier.NotifyStatus, raw string) (*cashier.Notification, error) {
	if status == cashier.NotifyPaid {
		if !slices.Contains(purchasable, t.Type) {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "transaction %s is of type %q: an order buys one of %v", t.TransactionID, t.Type, purchasable)
		}
		if t.Quantity > 1 {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "transaction %s buys %d of %s: an order buys one", t.TransactionID, t.Quantity, t.ProductID)
		}
		if t.RevocationDate != 0 {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "transaction %s was revoked at %s", t.TransactionID, time.UnixMilli(t.RevocationDate).UTC().Format(time.RFC3339))
		}
	}
	n := &cashier.Notification{ChannelTradeNo: t.TransactionID, ProductID: t.ProductID, Status: status,
		RawStatus: raw, Environment: t.Environment, Claims: claims(t.TransactionID, t.OriginalTransactionID)}
	if t.PurchaseDate > 0 {
		n.PaidAt = time.UnixMilli(t.PurchaseDate).UTC()
	}
	if status == cashier.NotifyPaid && t.AppAccountToken != "" {
		otn, err := outTradeNoOf(t.AppAccountToken)
		if err != nil {
			return nil, err
		}
		n.OutTradeNo = otn
	}
	return n, nil
}

// claims are the transaction ids that pay one attempt only: the
// transaction, and the original a restore or a renewal carries.
func claims(id, original string) []string {
	if original == "" || original == id {
		return []string{id}
	}
	return []string{id, original}
}

func (t *transaction) String() string {
	return fmt.Sprintf("transaction %s (%s, %s)", t.TransactionID, t.ProductID, t.Environment)
}
