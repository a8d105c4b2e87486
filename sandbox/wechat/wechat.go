// Package wechat simulates WeChat Pay for cashier's sandbox and tests: the
// v2 XML API, the v3 JSON API, the pages a buyer pays on, and payment and
// refund notifications signed the way WeChat Pay signs them.
package wechat

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"cashier/sandbox"
)

// WeChat simulates WeChat Pay: the v2 XML API, the v3 JSON API, the pages a
// buyer pays on, and the notifications. Set the exported fields, then
// Register it; it keeps its trades in memory, from the orders cashier
// places.
type WeChat struct {
	AppID, MchID string
	// APIVersion is the format of the notifications it sends: 2 or 3; 0
	// sends each trade's in the version of the API that placed it, as
	// WeChat Pay does.
	APIVersion int

	// v2
	APIKey string // verifies requests, signs answers and notifications
	// SignType, when set ("MD5" or "HMAC-SHA256"), is the only sign type
	// requests may use; empty accepts both, like WeChat Pay. Answers and
	// notifications are signed the way the request or order was.
	SignType string

	// v3
	APIv3Key       string          // encrypts notification resources (32 bytes)
	MerchantKey    *rsa.PublicKey  // verifies the requests' Authorization signatures
	PlatformKey    *rsa.PrivateKey // signs answers and notifications
	PlatformSerial string          // the Wechatpay-Serial it sends

	// Lookup is optional: the simulator keeps every trade from the orders
	// placed with it. When set, POST /sandbox/wechat/pay asks it about an
	// out_trade_no the simulator does not know, to tell an attempt that
	// cashier has but this simulator lost (a restart) from one that does
	// not exist. It returns the credential cashier handed out.
	Lookup func(ctx context.Context, outTradeNo string) (json.RawMessage, error)

	HTTPClient *http.Client // delivers notifications; nil = a client with a 10s timeout
	Logger     *slog.Logger // nil = discard
	Now        func() time.Time

	mu       sync.Mutex
	trades   map[string]*wechatTrade  // by out_trade_no
	byPrepay map[string]string        // prepay_id → out_trade_no
	byToken  map[string]string        // code_url token → out_trade_no
	refunds  map[string]*wechatRefund // by out_refund_no, unique per merchant
	faults   sandbox.Faults
}

// wechatPrefix is where the simulator's routes live; WeChat Pay's own paths
// follow it.
const wechatPrefix = "/sandbox/wechat"

// Register adds the simulator's routes to mux:
//
//	POST /sandbox/wechat/pay/unifiedorder                           v2 API
//	POST /sandbox/wechat/pay/orderquery                             v2 API
//	POST /sandbox/wechat/pay/closeorder                             v2 API
//	POST /sandbox/wechat/secapi/pay/refund                          v2 API (no client certificate asked)
//	POST /sandbox/wechat/pay/refundquery                            v2 API
//	POST /sandbox/wechat/v3/pay/transactions/app                    v3 API
//	POST /sandbox/wechat/v3/pay/transactions/native                 v3 API
//	POST /sandbox/wechat/v3/pay/transactions/h5                     v3 API
//	GET  /sandbox/wechat/v3/pay/transactions/out-trade-no/{otn}     v3 API (query)
//	POST /sandbox/wechat/v3/pay/transactions/out-trade-no/{otn}/close v3 API
//	POST /sandbox/wechat/v3/refund/domestic/refunds                 v3 API
//	GET  /sandbox/wechat/v3/refund/domestic/refunds/{out_refund_no} v3 API
//	GET  /sandbox/wechat/qr/{token}     the pay page of a code_url (weixin://wxpay/bizpayurl?pr={token})
//	GET  /sandbox/wechat/h5/{prepay_id} the pay page of an H5 (MWEB) URL
//	POST /sandbox/wechat/pay            pays (or fails) a trade and sends the notification
//	POST /sandbox/wechat/refund/settle  settles refunds in progress and sends their notifications
//
// Refunds stay PROCESSING, as WeChat Pay's do for a while, until
// SettleRefunds or POST /sandbox/wechat/refund/settle settles them: tests
// and the person at the sandbox decide when.
func (w *WeChat) Register(mux *http.ServeMux) {
	// The patterns are string literals (under wechatPrefix) so that
	// api/openapi_test.go can check that each one is documented.
	mux.HandleFunc("POST /sandbox/wechat/pay/unifiedorder", w.serveV2(sandbox.OpPrepare, w.v2UnifiedOrder))
	mux.HandleFunc("POST /sandbox/wechat/pay/orderquery", w.serveV2(sandbox.OpQuery, w.v2OrderQuery))
	mux.HandleFunc("POST /sandbox/wechat/pay/closeorder", w.serveV2(sandbox.OpClose, w.v2CloseOrder))
	mux.HandleFunc("POST /sandbox/wechat/secapi/pay/refund", w.serveV2(sandbox.OpRefund, w.v2Refund))
	mux.HandleFunc("POST /sandbox/wechat/pay/refundquery", w.serveV2(sandbox.OpRefundQuery, w.v2RefundQuery))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/app", w.serveV3(sandbox.OpPrepare, w.v3Transaction(wechatV3Kinds["app"])))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/native", w.serveV3(sandbox.OpPrepare, w.v3Transaction(wechatV3Kinds["native"])))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/h5", w.serveV3(sandbox.OpPrepare, w.v3Transaction(wechatV3Kinds["h5"])))
	mux.HandleFunc("GET /sandbox/wechat/v3/pay/transactions/out-trade-no/{otn}", w.serveV3(sandbox.OpQuery, w.v3Query))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/out-trade-no/{otn}/close", w.serveV3(sandbox.OpClose, w.v3Close))
	mux.HandleFunc("POST /sandbox/wechat/v3/refund/domestic/refunds", w.serveV3(sandbox.OpRefund, w.v3Refund))
	mux.HandleFunc("GET /sandbox/wechat/v3/refund/domestic/refunds/{out_refund_no}", w.serveV3(sandbox.OpRefundQuery, w.v3RefundQuery))
	mux.HandleFunc("GET /sandbox/wechat/qr/{token}", w.servePayPage)
	mux.HandleFunc("GET /sandbox/wechat/h5/{prepay_id}", w.servePayPage)
	mux.HandleFunc("POST /sandbox/wechat/pay", w.servePay)
	mux.HandleFunc("POST /sandbox/wechat/refund/settle", w.serveSettleRefunds)
}

// Faults are the failures injected into the simulated WeChat Pay: the
// Op… operations of package sandbox, for both API versions.
func (w *WeChat) Faults() *sandbox.Faults { return &w.faults }

func (w *WeChat) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *WeChat) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (w *WeChat) httpClient() *http.Client {
	if w.HTTPClient != nil {
		return w.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// v2Configured says whether the simulator can answer the v2 API.
func (w *WeChat) v2Configured() bool {
	return w.AppID != "" && w.MchID != "" && w.APIKey != ""
}

// v3Configured says whether the simulator can answer the v3 API.
func (w *WeChat) v3Configured() bool {
	return w.AppID != "" && w.MchID != "" && len(w.APIv3Key) == 32 &&
		w.MerchantKey != nil && w.PlatformKey != nil && w.PlatformSerial != ""
}
