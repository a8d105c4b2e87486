package apple

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cashier/sandbox"
)

// pages are the simulator's pages, in the frame of package sandbox.
var pages = sandbox.NewPages(sandbox.Look{Name: "App Store", Background: "#f5f5f7", Accent: "#0071e3"}, "sandbox apple", `
{{define "pay"}}<h1>App Store sandbox: confirm your in-app purchase</h1>
<dl><dt>Product</dt><dd>{{.AppleProductID}}</dd><dt>Order</dt><dd>{{.OrderID}}</dd><dt>appAccountToken</dt><dd>{{.AppAccountToken}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/apple/pay"><input type="hidden" name="order_id" value="{{.OrderID}}"><input type="hidden" name="result" value="success"><button class="pay" type="submit">Purchase</button></form>
<form method="post" action="/sandbox/apple/pay"><input type="hidden" name="order_id" value="{{.OrderID}}"><input type="hidden" name="result" value="fail"><button class="cancel" type="submit">Cancel</button></form>
</div>{{end}}

{{define "result"}}<h1>{{if .Paid}}Purchase complete{{else}}Purchase cancelled{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Transaction</dt><dd>{{.ChannelTradeNo}}</dd><dt>Status</dt><dd>{{.Status}}</dd>
<dt>Notification</dt><dd>{{if .NotifyStatus}}HTTP {{.NotifyStatus}}{{else}}none{{end}}</dd></dl>
{{if .Paid}}<p>The app now sends the signed transaction to cashier: <code>POST /api/v1/order/apple/verify</code>.</p>{{end}}{{end}}
`)

const route = "/sandbox/apple"

// Register adds the simulator's routes to mux:
//
//	GET  /sandbox/apple/storekit?order_id=…        StoreKit's purchase sheet for a ticket
//	POST /sandbox/apple/pay                        buys the ticket's product (order_id, optional product_id, notify=no)
//	POST /sandbox/apple/verifyReceipt              verifyReceipt, production host (21007 for sandbox receipts)
//	POST /sandbox/apple/sandbox/verifyReceipt      verifyReceipt, sandbox host
//	POST /sandbox/apple/notify                     sends a notification about a transaction (transaction_id, type)
func (s *Apple) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/apple/storekit", s.serveSheet)
	mux.HandleFunc("POST /sandbox/apple/pay", s.servePay)
	mux.HandleFunc("POST /sandbox/apple/verifyReceipt", s.verifyReceipt(false))
	mux.HandleFunc("POST /sandbox/apple/sandbox/verifyReceipt", s.verifyReceipt(true))
	mux.HandleFunc("POST /sandbox/apple/notify", s.serveNotify)
}

func (s *Apple) errorPage(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
	pages.RenderError(w, r, s.log(), status, code, reason)
}

// ticketOf reads the ticket cashier handed out for an attempt.
func (s *Apple) ticketOf(ctx context.Context, outTradeNo string) (*ticket, error) {
	raw, err := s.Credential(ctx, outTradeNo)
	if err != nil {
		return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "not-found", Reason: fmt.Sprintf("cashier handed out no ticket %q", outTradeNo)}
	}
	var t ticket
	if err := json.Unmarshal(raw, &t); err != nil || t.AppleProductID == "" {
		return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "not-found", Reason: fmt.Sprintf("%q is not an Apple ticket", outTradeNo)}
	}
	return &t, nil
}

// serveSheet is StoreKit's confirmation sheet for a ticket.
func (s *Apple) serveSheet(w http.ResponseWriter, r *http.Request) {
	t, err := s.ticketOf(r.Context(), r.URL.Query().Get("order_id"))
	if err != nil {
		var rf *sandbox.Refusal
		errors.As(err, &rf)
		s.errorPage(w, r, rf.Status, rf.Code, rf.Reason)
		return
	}
	pages.Render(w, r, s.log(), http.StatusOK, "pay", t)
}

// PayAnswer is the answer of POST /sandbox/apple/pay: what StoreKit gives
// the app, besides the common answer.
type PayAnswer struct {
	*sandbox.PayAnswer
	SignedTransaction string `json:"signed_transaction,omitempty"`
	ReceiptData       string `json:"receipt_data,omitempty"`
	TransactionID     string `json:"transaction_id,omitempty"`
}

// servePay buys a ticket's product (or another: product_id) as the buyer
// would in StoreKit, and sends ONE_TIME_CHARGE unless notify=no.
func (s *Apple) servePay(w http.ResponseWriter, r *http.Request) {
	paid, rf := sandbox.ReadPayForm(w, r, "invalid-request")
	if rf != nil {
		sandbox.WriteRefusal(w, r, rf, nil, s.errorPage)
		return
	}
	otn := r.PostFormValue("order_id")
	if otn == "" {
		otn = r.PostFormValue("out_trade_no")
	}
	ans, err := s.pay(r.Context(), otn, r.PostFormValue("product_id"), paid, r.PostFormValue("notify") == "no")
	if err != nil {
		if !errors.As(err, &rf) {
			rf = &sandbox.Refusal{Status: http.StatusInternalServerError, Code: "internal", Reason: err.Error()}
		}
		var common *sandbox.PayAnswer
		if ans != nil {
			common = ans.PayAnswer
		}
		sandbox.WriteRefusal(w, r, rf, common, s.errorPage)
		return
	}
	if sandbox.WantsHTML(r) {
		pages.Render(w, r, s.log(), http.StatusOK, "result", ans.PayAnswer)
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, ans)
}

// Pay buys the product of the ticket outTradeNo, as the buyer would in
// StoreKit, and sends ONE_TIME_CHARGE unless hold is set. A cancelled
// purchase (paid false) makes no transaction and sends nothing.
func (s *Apple) Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	ans, err := s.pay(ctx, outTradeNo, "", paid, hold)
	if ans == nil {
		return nil, err
	}
	return ans.PayAnswer, err
}

func (s *Apple) pay(ctx context.Context, outTradeNo, product string, paid, hold bool) (*PayAnswer, error) {
	t, err := s.ticketOf(ctx, outTradeNo)
	if err != nil {
		return nil, err
	}
	if !paid {
		return &PayAnswer{PayAnswer: &sandbox.PayAnswer{OutTradeNo: outTradeNo, Status: "userCancelled"}}, nil
	}
	if product == "" {
		product = t.AppleProductID
	}
	tx := s.Purchase(product, t.AppAccountToken)
	signed, err := s.SignedTransaction(*tx)
	if err != nil {
		return nil, err
	}
	n, err := s.Notification(s.Chain, "ONE_TIME_CHARGE", "", *tx)
	if err != nil {
		return nil, err
	}
	ans := &PayAnswer{PayAnswer: &sandbox.PayAnswer{OutTradeNo: outTradeNo, ChannelTradeNo: tx.TransactionID,
		Status: "purchased", Paid: true, Notification: n},
		SignedTransaction: signed, ReceiptData: s.Receipt(tx.TransactionID), TransactionID: tx.TransactionID}
	return ans, sandbox.Send(ctx, s.client(), ans.PayAnswer, hold)
}

// serveNotify sends cashier a notification about a transaction: REFUND
// (the default) and REVOKE mark it revoked first, as Apple's do.
func (s *Apple) serveNotify(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, sandbox.MaxForm)
	if err := r.ParseForm(); err != nil {
		sandbox.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	typ := strings.ToUpper(r.PostFormValue("type"))
	if typ == "" {
		typ = "REFUND"
	}
	m, err := s.NotifyAbout(r.PostFormValue("transaction_id"), typ)
	if err != nil {
		sandbox.WriteJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	status, reply, err := sandbox.Deliver(r.Context(), s.client(), m)
	if err != nil {
		sandbox.WriteJSON(w, http.StatusBadGateway, map[string]string{"error": "notification not delivered: " + err.Error()})
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"notification_type": typ, "notify_status": status, "notify_reply": reply})
}

// NotifyAbout is the notification of type typ about a transaction the
// simulator made; REFUND and REVOKE revoke it first.
func (s *Apple) NotifyAbout(transactionID, typ string) (*sandbox.Message, error) {
	s.mu.Lock()
	t, ok := s.transactions[transactionID]
	if ok && (typ == "REFUND" || typ == "REVOKE") && t.RevocationDate == 0 {
		reason := 1
		t.RevocationDate, t.RevocationReason, t.SignedDate = s.now().UnixMilli(), &reason, s.now().UnixMilli()
	}
	var tx Transaction
	if ok {
		tx = *t
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no transaction %q", transactionID)
	}
	return s.Notification(s.Chain, typ, "", tx)
}

// Forge returns a copy of a notification that cashier must not believe:
// signed by a forger's chain, altered after signing, for another product
// (OtherAmount: the product stands for the price), or for another app.
func (s *Apple) Forge(m *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	var body struct {
		SignedPayload string `json:"signedPayload"`
	}
	if err := json.Unmarshal(m.Body, &body); err != nil {
		return nil, err
	}
	var payload struct {
		NotificationType string `json:"notificationType"`
		Data             struct {
			SignedTransactionInfo string `json:"signedTransactionInfo"`
		} `json:"data"`
	}
	if err := decodeJWSPayload(body.SignedPayload, &payload); err != nil {
		return nil, err
	}
	var tx Transaction
	if err := decodeJWSPayload(payload.Data.SignedTransactionInfo, &tx); err != nil {
		return nil, err
	}
	switch how {
	case sandbox.Forged:
		forger, err := forgerChain()
		if err != nil {
			return nil, err
		}
		return s.Notification(forger, payload.NotificationType, "", tx)
	case sandbox.Tampered:
		parts := strings.Split(body.SignedPayload, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		changed := strings.Replace(string(raw), `"ONE_TIME_CHARGE"`, `"REFUND"`, 1)
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
		b, _ := json.Marshal(map[string]string{"signedPayload": strings.Join(parts, ".")})
		out := m.Clone()
		out.Body = b
		return out, nil
	case sandbox.OtherAmount:
		tx.ProductID += ".other"
		tx.TransactionID = newTransactionID()
		tx.OriginalTransactionID = tx.TransactionID
		return s.Notification(s.Chain, payload.NotificationType, "", tx)
	case sandbox.OtherApp:
		tx.BundleID = "com.example.another.app"
		return s.Notification(s.Chain, payload.NotificationType, "", tx)
	}
	return nil, fmt.Errorf("sandbox apple: cannot make a notification for %s", how)
}

func decodeJWSPayload(jws string, v any) error {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
