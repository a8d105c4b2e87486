// Package alipay simulates Alipay for cashier's sandbox and tests: its
// gateway (gateway.do: pay pages, trade query, close and refund), and its
// notifications, signed with RSA2 the way Alipay signs them.
package alipay

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"

	"cashier/sandbox"
)

// Alipay simulates Alipay's gateway (gateway.do), its pay pages and its
// notifications. Set the exported fields, then Register it; it keeps its
// trades in memory.
type Alipay struct {
	AppID        string
	AppPublicKey *rsa.PublicKey  // verifies what cashier signed
	PlatformKey  *rsa.PrivateKey // signs notifications/returns/responses, like Alipay
	// Lookup returns the credential cashier handed out for out_trade_no (the app order
	// string or the web/wap gateway URL), so that POST /sandbox/alipay/pay can pay by out_trade_no.
	Lookup     func(ctx context.Context, outTradeNo string) (string, error)
	HTTPClient *http.Client // delivers notifications (loopback); nil = a client with a 10s timeout
	Logger     *slog.Logger // nil = discard
	Now        func() time.Time

	mu      sync.Mutex
	trades  map[string]*alipayTrade           // by out_trade_no
	refunds map[alipayRefundKey]*alipayRefund // out_request_no is unique per trade only
	faults  sandbox.Faults
}

// Faults are the failures injected into the simulated gateway's API
// (sandbox.OpQuery, OpClose, OpRefund, OpRefundQuery): an HTTPStatus alone
// answers that status, an ErrCode a signed business failure (40004) with
// that sub_code.
func (a *Alipay) Faults() *sandbox.Faults { return &a.faults }

// Trade statuses, Alipay's words.
const (
	statusWaitBuyerPay = "WAIT_BUYER_PAY"
	statusSuccess      = "TRADE_SUCCESS"
	statusClosed       = "TRADE_CLOSED"
)

// alipayTrade is one trade as the simulated Alipay knows it.
type alipayTrade struct {
	OutTradeNo  string
	TradeNo     string
	TotalAmount string // yuan, as in the order
	Subject     string
	Status      string
	Method      string // the pay method that created it
	NotifyURL   string
	ReturnURL   string
	Created     time.Time
	Paid        time.Time // zero unless TRADE_SUCCESS
	Closed      time.Time // zero unless TRADE_CLOSED
	RefundedFen int64     // the refunds' total
}

// Register adds the simulator's routes to mux:
//
//	GET  /sandbox/alipay/gateway.do  the web/wap pay page for a signed pay URL
//	POST /sandbox/alipay/gateway.do  server-to-server API (alipay.trade.query, .close, .refund,
//	                                 alipay.trade.fastpay.refund.query)
//	POST /sandbox/alipay/pay         pays (or cancels) an order and sends the notification
func (a *Alipay) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/alipay/gateway.do", a.servePayPage)
	mux.HandleFunc("POST /sandbox/alipay/gateway.do", a.serveAPI)
	mux.HandleFunc("POST /sandbox/alipay/pay", a.servePay)
}

// SellerID is the simulated merchant's Alipay user id (2088 + 12 digits). It
// is derived from PlatformKey, so it stays the same as long as the sandbox's
// key files do, and cashier's configuration can name it.
func (a *Alipay) SellerID() string { return derivedUserID("seller", a.PlatformKey) }

// buyerID is the one simulated buyer.
func (a *Alipay) buyerID() string { return derivedUserID("buyer", a.PlatformKey) }

func derivedUserID(role string, key *rsa.PrivateKey) string {
	h := sha256.New()
	h.Write([]byte(role))
	if key != nil {
		h.Write(key.N.Bytes())
	}
	n := new(big.Int).SetBytes(h.Sum(nil))
	n.Mod(n, big.NewInt(1e12))
	return fmt.Sprintf("2088%012d", n)
}

func (a *Alipay) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Alipay) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (a *Alipay) httpClient() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// configured says whether the simulator has what it needs to answer.
func (a *Alipay) configured() bool {
	return a.AppID != "" && a.AppPublicKey != nil && a.PlatformKey != nil
}
