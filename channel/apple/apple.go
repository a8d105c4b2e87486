// Package apple is the Apple in-app purchase channel. The buyer pays inside
// the app with StoreKit, for an App Store product whose price Apple sets:
// cashier hands the app a ticket (the product, and an appAccountToken that
// names the attempt), the app sends back what StoreKit gave it — a signed
// transaction (JWS, StoreKit 2) or, from old clients, the app receipt,
// checked with Apple's verifyReceipt — and App Store Server Notifications
// V2 tell of purchases and refunds. Apple's signed data is verified against
// the pinned Apple Root CA - G3.
package apple

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"cashier"
)

// Apple's verifyReceipt hosts.
const (
	DefaultVerifyReceiptURL        = "https://buy.itunes.apple.com/verifyReceipt"
	DefaultSandboxVerifyReceiptURL = "https://sandbox.itunes.apple.com/verifyReceipt"
)

// Config is what the channel needs from App Store Connect.
type Config struct {
	BundleID                string
	AppAppleID              int64
	AcceptSandbox           bool
	TicketSecret            []byte            // keys the ticket's sign
	SharedSecret            string            // verifyReceipt's password; "": receipts refused
	Root                    *x509.Certificate // default: Apple Root CA - G3
	VerifyReceiptURL        string
	SandboxVerifyReceiptURL string
	HonourLatePayments      bool
	HTTPClient              *http.Client
	Now                     func() time.Time
	Logger                  *slog.Logger
}

// Apple is the Apple in-app purchase channel.
type Apple struct {
	cfg      Config
	verifier *verifier
	log      *slog.Logger
}

var (
	_ cashier.Channel          = (*Apple)(nil)
	_ cashier.PurchaseVerifier = (*Apple)(nil)
)

// New checks cfg and returns the channel.
func New(cfg Config) (*Apple, error) {
	if cfg.BundleID == "" || len(cfg.TicketSecret) == 0 {
		return nil, errors.New("apple: BundleID and TicketSecret are required")
	}
	if cfg.Root == nil {
		root, err := readRoot("")
		if err != nil {
			return nil, err
		}
		cfg.Root = root
	}
	if cfg.VerifyReceiptURL == "" {
		cfg.VerifyReceiptURL = DefaultVerifyReceiptURL
	}
	if cfg.SandboxVerifyReceiptURL == "" {
		cfg.SandboxVerifyReceiptURL = DefaultSandboxVerifyReceiptURL
	}
	for _, u := range []string{cfg.VerifyReceiptURL, cfg.SandboxVerifyReceiptURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("apple: verifyReceipt URL %q is not an absolute http(s) URL", u)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Apple{cfg: cfg, verifier: &verifier{root: cfg.Root, now: cfg.Now}, log: log}, nil
}

// Name is the channel's name in the order API.
func (a *Apple) Name() string { return cashier.ChannelApple }

// Gateways: StoreKit is the only way to pay.
func (a *Apple) Gateways() []string { return nil }

// HonoursLatePurchases says whether a purchase pays an order cashier closed.
func (a *Apple) HonoursLatePurchases() bool { return a.cfg.HonourLatePayments }

// Prepare makes the attempt's ticket: nothing is asked of Apple.
func (a *Apple) Prepare(_ context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	if req.ProductID == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "apple: the attempt names no App Store product")
	}
	token, err := AccountToken(req.OutTradeNo)
	if err != nil {
		return nil, err
	}
	return &cashier.Credential{Value: Ticket{
		OrderID: req.OutTradeNo, Price: req.Amount, AppleProductID: req.ProductID,
		Sign: SignTicket(a.cfg.TicketSecret, req.OutTradeNo, req.Amount, req.ProductID), AppAccountToken: token,
	}}, nil
}

// Reply answers App Store Server Notifications: 200 for received, 500 for
// Apple to send again (it retries only in production).
func (a *Apple) Reply(ok bool) cashier.NotifyReply {
	if !ok {
		return cashier.NotifyReply{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: []byte("retry")}
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte("OK")}
}

// VerifyPurchase verifies what StoreKit gave the app: a signed
// transaction, or a receipt checked with Apple's verifyReceipt.
func (a *Apple) VerifyPurchase(ctx context.Context, proof cashier.PurchaseProof) ([]cashier.Notification, error) {
	switch {
	case proof.SignedTransaction != "" && proof.ReceiptData != "":
		return nil, cashier.Errorf(cashier.EINVALID, "send signed_transaction or receipt_data, not both")
	case proof.SignedTransaction != "":
		t, err := a.verifyTransaction(proof.SignedTransaction)
		if err != nil {
			return nil, err
		}
		if t.AppAccountToken == "" {
			return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "%s carries no appAccountToken: the app must pass the ticket's app_account_token to StoreKit", t)
		}
		n, err := t.purchase(cashier.NotifyPaid, "StoreKit 2 transaction")
		if err != nil {
			return nil, err
		}
		return []cashier.Notification{*n}, nil
	case proof.ReceiptData != "":
		return a.verifyReceipt(ctx, proof.ReceiptData)
	}
	return nil, cashier.Errorf(cashier.EINVALID, "signed_transaction or receipt_data is required")
}
