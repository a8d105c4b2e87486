package api

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"cashier"
	"cashier/checkout"
)

// POST /api/v1/order/apple/verify: the buyer's app sends what
// the App Store gave it for an order — order_id and signed_transaction, or
// receipt_data from old clients — as a form or JSON. The answer is the
// order. The request is recorded as the purchase's evidence.
func handleVerifyPurchase(co *checkout.Service, channel string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, r, log, bodyError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		v, err := params(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		id, err := requiredID(v, "order_id")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		headers := map[string][]string{}
		for _, h := range []string{"Content-Type", "User-Agent", "X-Forwarded-For", "X-Real-Ip"} {
			if vals := r.Header.Values(h); len(vals) > 0 {
				headers[h] = vals
			}
		}
		o, rc, err := co.VerifyPurchase(r.Context(), checkout.VerifyPurchaseRequest{
			UserID: userID(r.Context()), OrderID: id,
			Proof: cashier.PurchaseProof{SignedTransaction: strings.TrimSpace(v.Get("signed_transaction")),
				ReceiptData: strings.TrimSpace(v.Get("receipt_data"))},
			Inbound: checkout.Inbound{Channel: channel, RemoteAddr: r.RemoteAddr,
				Request: &cashier.InboundRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: headers, Body: body}},
		})
		if err != nil {
			if rc != nil && rc.MessageID != 0 {
				log.InfoContext(r.Context(), "purchase refused", "channel", channel, "order_id", id, "message_id", rc.MessageID, "reason", rc.Reason)
			}
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{OrderID: idString(o.ID), Data: toOrder(o)})
	})
}
