// Package adapay simulates AdaPay (汇付) for cashier's sandbox and tests: its
// REST API (/v1/payments: create, query, close, refunds, refund lists),
// verifying cashier's signed requests with the merchant's public key and
// signing its answers and webhooks with "AdaPay's" key, a page for the QR
// link of an alipay_qr payment, and its webhooks.
package adapay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"cashier/internal/chinatime"
	"cashier/sandbox"
)

// AdaPay simulates AdaPay. Set the exported fields, then Register it; it
// keeps its payments in memory.
type AdaPay struct {
	AppID, APIKey string
	MerchantKey   *rsa.PublicKey  // verifies cashier's requests
	PlatformKey   *rsa.PrivateKey // signs answers and webhooks, as AdaPay's
	// BaseURL is where cashier reaches it (…/sandbox/adapay): the URL its
	// requests' signatures cover begins with it.
	BaseURL    string
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time

	mu       sync.Mutex
	payments map[string]*payment // by id
	refunds  []*refund
	faults   sandbox.Faults
}

type payment struct {
	obj      map[string]any // the payment object, as answered
	orderNo  string
	amount   string
	status   string // pending, succeeded, failed, closed
	notify   string
	refunded int64 // fen
}

type refund struct {
	obj     map[string]any
	payment string
	orderNo string // refund_order_no
	notify  string
	status  string // pending, succeeded
	created time.Time
}

// refundSettlesAfter is how long a refund stays pending before Tick makes it.
const refundSettlesAfter = time.Minute

const route = "/sandbox/adapay"

// Register adds the simulator's routes to mux:
//
//	POST /sandbox/adapay/v1/payments               create a payment
//	GET  /sandbox/adapay/v1/payments/{id}          query a payment
//	POST /sandbox/adapay/v1/payments/{id}/close    close a payment
//	POST /sandbox/adapay/v1/payments/{id}/refunds  refund a payment
//	GET  /sandbox/adapay/v1/payments/refunds       a payment's refunds (payment_id)
//	GET  /sandbox/adapay/qr/{id}                   the page the QR link opens
//	POST /sandbox/adapay/pay                       pays (or fails) a payment and sends its webhook
func (s *AdaPay) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /sandbox/adapay/v1/payments", s.api(sandbox.OpPrepare, s.create))
	mux.HandleFunc("GET /sandbox/adapay/v1/payments/{id}", s.api(sandbox.OpQuery, s.query))
	mux.HandleFunc("POST /sandbox/adapay/v1/payments/{id}/close", s.api(sandbox.OpClose, s.close))
	mux.HandleFunc("POST /sandbox/adapay/v1/payments/{id}/refunds", s.api(sandbox.OpRefund, s.refund))
	mux.HandleFunc("GET /sandbox/adapay/v1/payments/refunds", s.api(sandbox.OpRefundQuery, s.refundList))
	mux.HandleFunc("GET /sandbox/adapay/qr/{id}", s.servePayPage)
	mux.HandleFunc("POST /sandbox/adapay/pay", sandbox.PayHandler(s, pages, s.log(), "request_param_error"))
}

// Faults are the failures injected into the simulated API: sandbox.OpPrepare
// (create), OpQuery, OpClose, OpRefund, OpRefundQuery. HTTPStatus alone
// answers that status with no signed data; ErrCode a signed refusal with
// that error_code and ErrCodeDes as error_msg.
func (s *AdaPay) Faults() *sandbox.Faults { return &s.faults }

func (s *AdaPay) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *AdaPay) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *AdaPay) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// sign is AdaPay's signature of data: base64 SHA1withRSA.
func sign(key *rsa.PrivateKey, data string) string {
	sum := sha1.Sum([]byte(data))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	if err != nil {
		panic(err) // a valid RSA key always signs
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// answer writes {"data": <JSON of v, as a string>, "signature": …}.
func (s *AdaPay) answer(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	sandbox.WriteJSON(w, status, map[string]string{"data": string(data), "signature": sign(s.PlatformKey, string(data))})
}

// refusal is AdaPay's failed answer.
func refusal(code, msg string) map[string]any {
	return map[string]any{"status": "failed", "error_code": code, "error_msg": msg, "error_type": "invalid_request_error"}
}

// handler answers one API call: a status and the data object.
type handler func(r *http.Request, body map[string]string) (int, map[string]any)

// api checks a request as AdaPay does (the api key, the signature over the
// URL and the body or sorted query), applies the faults injected into op,
// and answers what h says, signed.
func (s *AdaPay) api(op string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, sandbox.MaxForm)
		raw, signed, err := readRequest(r)
		if err != nil {
			s.answer(w, http.StatusBadRequest, refusal("request_param_error", err.Error()))
			return
		}
		fullURL := s.BaseURL + strings.TrimPrefix(r.URL.Path, route)
		if r.Header.Get("Authorization") != s.APIKey || !verify(s.MerchantKey, fullURL+signed, r.Header.Get("Signature")) {
			s.answer(w, http.StatusUnauthorized, refusal("signature_error", "the api key or the signature is wrong"))
			return
		}
		answered, f := s.faults.Fail(w, r, op, func(code, msg string) { s.answer(w, http.StatusOK, refusal(code, msg)) })
		if answered {
			return
		}
		status, v := h(r, raw)
		if f.ForgedAnswer {
			key, err := sandbox.ForgerKey()
			if err != nil {
				http.Error(w, "sandbox: forger key", http.StatusInternalServerError)
				return
			}
			data, _ := json.Marshal(v)
			sandbox.WriteJSON(w, status, map[string]string{"data": string(data), "signature": sign(key, string(data))})
			return
		}
		s.answer(w, status, v)
	}
}

// readRequest reads a request's parameters and what its signature covers:
// a POST's JSON body as sent, a GET's sorted query.
func readRequest(r *http.Request) (map[string]string, string, error) {
	params := map[string]string{}
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		names := make([]string, 0, len(q))
		for k := range q {
			names = append(names, k)
			params[k] = q.Get(k)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = k + "=" + q.Get(k)
		}
		return params, strings.Join(parts, "&"), nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, "", fmt.Errorf("the body cannot be read")
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, "", fmt.Errorf("the body is not a JSON object")
	}
	for k, v := range body {
		params[k] = fmt.Sprint(v)
	}
	return params, string(raw), nil
}

// verify checks cashier's signature of a request.
func verify(key *rsa.PublicKey, signed, signature string) bool {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	sum := sha1.Sum([]byte(signed))
	return rsa.VerifyPKCS1v15(key, crypto.SHA1, sum[:], sig) == nil
}

// newID makes an id shaped like AdaPay's: 0021 and 35 digits.
func newID(now time.Time) string {
	n, _ := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil))
	return fmt.Sprintf("0021%s%021s", chinatime.In(now).Format("20060102150405"), n.String())
}
