// Package ipaynow simulates iPayNow (现在支付, "helloNow") for cashier's
// sandbox and tests: its WP001 endpoint (H5 orders) and MQ002 queries, the
// R001/Q001 refund interface, an H5 pay page, and N001 notifications,
// signed with the app key and sent again until cashier answers success=Y,
// as iPayNow does.
package ipaynow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"cashier/internal/chinatime"
	"cashier/internal/signing"
	"cashier/sandbox"
)

// IPayNow simulates iPayNow. Set the exported fields, then Register it; it
// keeps its orders in memory.
type IPayNow struct {
	AppID, AppKey string
	// BaseURL is where its routes are reached (…/sandbox/helloNow): the H5
	// links it hands out point there.
	BaseURL string
	// Lookup returns the credential cashier handed out for out_trade_no (the
	// SDK parameters of APP mode), so that an APP order can be paid by its
	// number, as the app would hand the parameters to iPayNow's plugin.
	Lookup     func(ctx context.Context, outTradeNo string) (json.RawMessage, error)
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time

	mu      sync.Mutex
	orders  map[string]*order  // by mhtOrderNo
	refunds map[string]*refund // by mhtRefundNo
	resends *sandbox.Resender  // N001s cashier has not answered success=Y; made on first use
	faults  sandbox.Faults
	forger  string // the key forged notifications are signed with
}

// order is one order as the simulated iPayNow knows it.
type order struct {
	fields        map[string]string // as placed: mhtOrderName, mhtOrderAmt, notifyUrl, deviceType, payChannelType…
	amount        int64
	status        string // transStatus: A004 open, A001 paid, A002 failed
	nowPayOrderNo string
	paid          time.Time
	expires       time.Time
	refunded      int64
}

type refund struct {
	orderNo, refundNo string
	amount            int64
	status            string // tradeStatus: A004 accepted, A001 made
}

// Resends are when iPayNow sends a notification again while cashier has not
// answered success=Y: after the first, at these times after it (8 in all
// over 15 hours).
var resendAfter = []time.Duration{2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 6 * time.Hour, 15 * time.Hour}

const route = "/sandbox/helloNow"

// Register adds the simulator's routes to mux:
//
//	POST /sandbox/helloNow/gateway              WP001 (H5 orders, deviceType 0601) and MQ002 (queries)
//	POST /sandbox/helloNow/refund/refundOrder   R001
//	POST /sandbox/helloNow/refund/refundQuery   Q001
//	GET  /sandbox/helloNow/h5/{nowPayOrderNo}   the pay page of an H5 link
//	POST /sandbox/helloNow/pay                  pays (or fails) an order and sends N001
func (s *IPayNow) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /sandbox/helloNow/gateway", s.serveGateway)
	mux.HandleFunc("POST /sandbox/helloNow/refund/refundOrder", s.serveRefund)
	mux.HandleFunc("POST /sandbox/helloNow/refund/refundQuery", s.serveRefundQuery)
	mux.HandleFunc("GET /sandbox/helloNow/h5/{nowPayOrderNo}", s.servePayPage)
	mux.HandleFunc("POST /sandbox/helloNow/pay", sandbox.PayHandler(s, pages, s.log(), "A002"))
}

// Faults are the failures injected into the simulated servers:
// sandbox.OpPrepare (WP001), OpQuery (MQ002), OpRefund (R001), OpRefundQuery
// (Q001). HTTPStatus alone answers that status; ErrCode answers a signed
// refusal with that responseCode and ErrCodeDes as responseMsg.
func (s *IPayNow) Faults() *sandbox.Faults { return &s.faults }

func (s *IPayNow) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *IPayNow) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *IPayNow) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// sign is iPayNow's MD5 signature: the sorted non-empty fields but skip,
// "&", the MD5 of the key.
func sign(key string, fields map[string]string, skip ...string) string {
	return signing.MD5Hex(signing.SortedPairs(fields, skip...) + "&" + signing.MD5Hex(key))
}

// signAnswer signs an answer: WP001's and MQ002's over signType too,
// refunds' without it.
func (s *IPayNow) signAnswer(fields map[string]string, withSignType bool) map[string]string {
	fields["signType"] = "MD5"
	if withSignType {
		fields["signature"] = sign(s.AppKey, fields, "signature")
	} else {
		fields["signature"] = sign(s.AppKey, fields, "signature", "signType")
	}
	return fields
}

func formFields(values url.Values) map[string]string {
	fields := make(map[string]string, len(values))
	for k := range values {
		fields[k] = values.Get(k)
	}
	return fields
}

// writeForm writes a signed answer.
func writeForm(w http.ResponseWriter, fields map[string]string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.Write([]byte(sandbox.EncodeForm(fields)))
}

// nowPayOrderNo makes a number shaped like iPayNow's: 27 digits.
func nowPayOrderNo(now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e13))
	return fmt.Sprintf("2006%s%013d", chinatime.In(now).Format("20060102150405")[:10], n.Int64())
}

// forging wraps w so that the answer written to it is signed again with a
// key that is not the app's: an answer cashier must not believe.
func (s *IPayNow) forging(w http.ResponseWriter) http.ResponseWriter {
	return forgedWriter{ResponseWriter: w, key: s.forgerKey()}
}

type forgedWriter struct {
	http.ResponseWriter
	key string
}

func (f forgedWriter) Write(b []byte) (int, error) {
	values, err := url.ParseQuery(string(b))
	if err != nil {
		return f.ResponseWriter.Write(b)
	}
	fields := formFields(values)
	fields["signature"] = sign(f.key, fields, "signature")
	return f.ResponseWriter.Write([]byte(sandbox.EncodeForm(fields)))
}

// forgerKey is a key that is not the app's.
func (s *IPayNow) forgerKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forger == "" {
		b := make([]byte, 16)
		rand.Read(b)
		s.forger = hex.EncodeToString(b)
	}
	return s.forger
}

// Forge spoils a notification: Forged is signed with a key that is not the
// app's; Tampered says one fen more than was signed; OtherAmount and
// OtherApp are signed with the app's key, for one fen more or another app.
func (s *IPayNow) Forge(n *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	values, err := url.ParseQuery(string(n.Body))
	if err != nil {
		return nil, fmt.Errorf("not an N001 notification: %w", err)
	}
	fields := formFields(values)
	switch how {
	case sandbox.Forged:
		fields["signature"] = sign(s.forgerKey(), fields, "signature")
	case sandbox.Tampered, sandbox.OtherAmount:
		amt, err := strconv.ParseInt(fields["mhtOrderAmt"], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("mhtOrderAmt %q: %w", fields["mhtOrderAmt"], err)
		}
		fields["mhtOrderAmt"] = strconv.FormatInt(amt+1, 10)
		if how == sandbox.OtherAmount {
			fields["signature"] = sign(s.AppKey, fields, "signature")
		}
	case sandbox.OtherApp:
		fields["appId"] = sandbox.OtherAppID
		fields["signature"] = sign(s.AppKey, fields, "signature")
	default:
		return nil, fmt.Errorf("the iPayNow sandbox cannot forge %s", how)
	}
	m := n.Clone()
	m.Body = []byte(sandbox.EncodeForm(fields))
	return m, nil
}

var _ sandbox.Simulator = (*IPayNow)(nil)
var _ sandbox.Ticker = (*IPayNow)(nil)
