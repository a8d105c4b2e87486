// Package apple simulates the App Store for cashier's sandbox and tests:
// StoreKit's purchase (a transaction signed as StoreKit 2 signs it, with a
// chain shaped like Apple's, and an old-style receipt), verifyReceipt (its
// production host answering 21007 for the sandbox receipts it makes, as
// Apple's does), and App Store Server Notifications V2 (ONE_TIME_CHARGE on
// a purchase; REFUND, REVOKE and the rest on request).
package apple

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"cashier/sandbox"
)

// Apple simulates the App Store. Set the exported fields, then Register it;
// it keeps its transactions in memory.
type Apple struct {
	BundleID     string
	AppAppleID   int64
	SharedSecret string // verifyReceipt's password
	Chain        *Chain
	NotifyURL    string // cashier's App Store Server Notifications URL
	// Credential returns the ticket cashier handed out for an attempt.
	Credential func(ctx context.Context, outTradeNo string) (json.RawMessage, error)
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time

	mu           sync.Mutex
	transactions map[string]*Transaction // by transactionId
	receipts     map[string][]string     // receipt data → its transactionIds
	faults       sandbox.Faults
}

// Transaction is a purchase, as StoreKit 2 signs it.
type Transaction struct {
	TransactionID         string `json:"transactionId"`
	OriginalTransactionID string `json:"originalTransactionId"`
	BundleID              string `json:"bundleId"`
	ProductID             string `json:"productId"`
	PurchaseDate          int64  `json:"purchaseDate"`
	OriginalPurchaseDate  int64  `json:"originalPurchaseDate"`
	Quantity              int    `json:"quantity"`
	Type                  string `json:"type"`
	AppAccountToken       string `json:"appAccountToken,omitempty"`
	InAppOwnershipType    string `json:"inAppOwnershipType"`
	SignedDate            int64  `json:"signedDate"`
	Environment           string `json:"environment"`
	TransactionReason     string `json:"transactionReason"`
	Storefront            string `json:"storefront"`
	Price                 int64  `json:"price"`
	Currency              string `json:"currency"`
	RevocationDate        int64  `json:"revocationDate,omitempty"`
	RevocationReason      *int   `json:"revocationReason,omitempty"`
}

// ticket is what cashier handed the app.
type ticket struct {
	OrderID         string `json:"orderid"`
	Price           int64  `json:"price"`
	AppleProductID  string `json:"appleProductId"`
	AppAccountToken string `json:"app_account_token"`
}

func (s *Apple) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Apple) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Apple) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// Faults are the failures injected into verifyReceipt (sandbox.OpQuery).
func (s *Apple) Faults() *sandbox.Faults { return &s.faults }

// Sign signs v as Apple signs its data: a JWS, ES256, the chain in x5c.
func Sign(c *Chain, v any) (string, error) {
	header, err := json.Marshal(map[string]any{"alg": "ES256", "x5c": c.X5C()})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := jwt.SigningMethodES256.Sign(signing, c.LeafKey)
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Purchase makes a transaction for product, as StoreKit does when the
// buyer pays, with token as its appAccountToken ("" for none).
func (s *Apple) Purchase(product, token string) *Transaction {
	now := s.now().UnixMilli()
	id := newTransactionID()
	t := &Transaction{TransactionID: id, OriginalTransactionID: id, BundleID: s.BundleID, ProductID: product,
		PurchaseDate: now, OriginalPurchaseDate: now, Quantity: 1, Type: "Consumable", AppAccountToken: token,
		InAppOwnershipType: "PURCHASED", SignedDate: now, Environment: "Sandbox", TransactionReason: "PURCHASE",
		Storefront: "CHN", Price: 6000, Currency: "CNY"}
	s.mu.Lock()
	if s.transactions == nil {
		s.transactions = map[string]*Transaction{}
	}
	s.transactions[id] = t
	s.mu.Unlock()
	return t
}

// Transaction returns a copy of a transaction the simulator made.
func (s *Apple) Transaction(id string) (Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.transactions[id]
	if !ok {
		return Transaction{}, false
	}
	return *t, true
}

// SignedTransaction is t signed by the simulator's chain.
func (s *Apple) SignedTransaction(t Transaction) (string, error) { return Sign(s.Chain, t) }

// Receipt is an old-style app receipt holding the given transactions, as
// verifyReceipt will read it.
func (s *Apple) Receipt(ids ...string) string {
	raw := make([]byte, 48)
	rand.Read(raw)
	r := base64.StdEncoding.EncodeToString(raw)
	s.mu.Lock()
	if s.receipts == nil {
		s.receipts = map[string][]string{}
	}
	s.receipts[r] = ids
	s.mu.Unlock()
	return r
}

// Notification is an App Store Server Notification V2 about t, signed by
// the chain c, as Apple posts it: {"signedPayload": …}.
func (s *Apple) Notification(c *Chain, typ, subtype string, t Transaction) (*sandbox.Message, error) {
	signedTx, err := Sign(c, t)
	if err != nil {
		return nil, err
	}
	payload := map[string]any{
		"notificationType": typ, "notificationUUID": newUUID(), "version": "2.0", "signedDate": s.now().UnixMilli(),
		"data": map[string]any{"appAppleId": s.AppAppleID, "bundleId": t.BundleID, "bundleVersion": "1",
			"environment": t.Environment, "signedTransactionInfo": signedTx},
	}
	if subtype != "" {
		payload["subtype"] = subtype
	}
	signed, err := Sign(c, payload)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]string{"signedPayload": signed})
	return &sandbox.Message{URL: s.NotifyURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}, nil
}

func newTransactionID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e9))
	return fmt.Sprintf("2000000%09d", n.Int64())
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func b64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }
