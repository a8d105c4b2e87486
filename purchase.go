package cashier

import "context"

// PurchaseVerifier is a channel whose buyers pay inside an app store (Apple's
// StoreKit): the store, not cashier, prices what is bought (a product, see
// PrepareRequest.ProductID), and the buyer's app, not the channel, is first
// to tell cashier. The app sends what the store gave it, and the channel
// verifies it into notifications of purchases.
type PurchaseVerifier interface {
	// VerifyPurchase checks what the store gave the app: a signed
	// transaction, or an old client's receipt, which may hold several
	// purchases. Errors carry the codes of VerifyNotification.
	VerifyPurchase(ctx context.Context, proof PurchaseProof) ([]Notification, error)
	// HonoursLatePurchases says whether money the store took for an order
	// cashier had closed pays the order: the store's money cannot be given
	// back from the server.
	HonoursLatePurchases() bool
}

// PurchaseProof is what StoreKit gave the buyer's app: one of the two.
type PurchaseProof struct {
	SignedTransaction string // StoreKit 2: a JWS of the transaction
	ReceiptData       string // StoreKit 1: the base64 app receipt
}
