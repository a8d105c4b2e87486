package sandbox

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
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
	faults   map[string]*wechatFault  // by operation
}

// Fault is how InjectFault makes calls fail. Delay applies first (the
// simulator gives up when the caller does); then the first of HTTPStatus,
// ReturnCode and ErrCode that is set decides the answer; with none set the
// call is answered normally, late.
type Fault struct {
	Delay      time.Duration // answer after this long
	HTTPStatus int           // answer this status (v2: a bare error page; v3: {code, message})
	// ReturnCode and ReturnMsg make a v2 communication failure
	// (return_code FAIL); v3 calls ignore them.
	ReturnCode, ReturnMsg string
	// ErrCode and ErrCodeDes make a refusal: v2 result_code FAIL with
	// err_code (ORDERPAID, OUT_TRADE_NO_USED…), v3 {code, message} with
	// HTTPStatus, or the status WeChat Pay uses for that code.
	ErrCode, ErrCodeDes string
}

// Operations, for InjectFault: the same names for both API versions.
const (
	WeChatOpUnifiedOrder = "unifiedorder"
	WeChatOpOrderQuery   = "orderquery"
	WeChatOpCloseOrder   = "closeorder"
	WeChatOpRefund       = "refund"
	WeChatOpRefundQuery  = "refundquery"
)

type wechatFault struct {
	f    Fault
	left int // < 0: until ClearFaults
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
	mux.HandleFunc("POST /sandbox/wechat/pay/unifiedorder", w.serveV2(WeChatOpUnifiedOrder, w.v2UnifiedOrder))
	mux.HandleFunc("POST /sandbox/wechat/pay/orderquery", w.serveV2(WeChatOpOrderQuery, w.v2OrderQuery))
	mux.HandleFunc("POST /sandbox/wechat/pay/closeorder", w.serveV2(WeChatOpCloseOrder, w.v2CloseOrder))
	mux.HandleFunc("POST /sandbox/wechat/secapi/pay/refund", w.serveV2(WeChatOpRefund, w.v2Refund))
	mux.HandleFunc("POST /sandbox/wechat/pay/refundquery", w.serveV2(WeChatOpRefundQuery, w.v2RefundQuery))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/app", w.serveV3(WeChatOpUnifiedOrder, w.v3Transaction(wechatV3Kinds["app"])))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/native", w.serveV3(WeChatOpUnifiedOrder, w.v3Transaction(wechatV3Kinds["native"])))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/h5", w.serveV3(WeChatOpUnifiedOrder, w.v3Transaction(wechatV3Kinds["h5"])))
	mux.HandleFunc("GET /sandbox/wechat/v3/pay/transactions/out-trade-no/{otn}", w.serveV3(WeChatOpOrderQuery, w.v3Query))
	mux.HandleFunc("POST /sandbox/wechat/v3/pay/transactions/out-trade-no/{otn}/close", w.serveV3(WeChatOpCloseOrder, w.v3Close))
	mux.HandleFunc("POST /sandbox/wechat/v3/refund/domestic/refunds", w.serveV3(WeChatOpRefund, w.v3Refund))
	mux.HandleFunc("GET /sandbox/wechat/v3/refund/domestic/refunds/{out_refund_no}", w.serveV3(WeChatOpRefundQuery, w.v3RefundQuery))
	mux.HandleFunc("GET /sandbox/wechat/qr/{token}", w.servePayPage)
	mux.HandleFunc("GET /sandbox/wechat/h5/{prepay_id}", w.servePayPage)
	mux.HandleFunc("POST /sandbox/wechat/pay", w.servePay)
	mux.HandleFunc("POST /sandbox/wechat/refund/settle", w.serveSettleRefunds)
}

// InjectFault makes the next n calls of operation op ("unifiedorder",
// "orderquery", "closeorder", "refund", "refundquery"; v3 calls use the
// same names) that pass the signature check fail as f describes; n <= 0
// means until ClearFaults. It replaces an earlier fault of op.
func (w *WeChat) InjectFault(op string, n int, f Fault) {
	if n <= 0 {
		n = -1
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.faults == nil {
		w.faults = make(map[string]*wechatFault)
	}
	w.faults[op] = &wechatFault{f: f, left: n}
}

// ClearFaults removes every injected fault.
func (w *WeChat) ClearFaults() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = nil
}

// takeFault returns the fault of op, if any, counting the call.
func (w *WeChat) takeFault(op string) (Fault, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ft, ok := w.faults[op]
	if !ok {
		return Fault{}, false
	}
	if ft.left > 0 {
		ft.left--
		if ft.left == 0 {
			delete(w.faults, op)
		}
	}
	return ft.f, true
}

// delay waits out f.Delay; false when the caller gave up first.
func (f Fault) delay(ctx context.Context) bool {
	if f.Delay <= 0 {
		return true
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

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
