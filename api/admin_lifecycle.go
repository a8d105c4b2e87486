package api

import (
	"errors"
	"log/slog"
	"net/http"

	"cashier"
	"cashier/checkout"
)

// GET /admin/api/orders/{id}: any order, with payments and refunds.
func handleAdminOrder(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		o, err := co.AdminOrder(r.Context(), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toOrder(o))
	})
}

// POST /admin/api/orders/{id}/refunds: {"amount", "reason"}; Idempotency-Key honoured.
func handleAdminRefund(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		var in struct {
			Amount int64  `json:"amount"`
			Reason string `json:"reason"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		ref, err := co.RefundOrder(r.Context(), id, in.Amount, in.Reason)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusAccepted, envelope{OrderID: idString(id), Data: toRefund(ref)})
	})
}

// POST /admin/api/webhooks: {"url", "events", "secret"}; the secret is shown
// in this answer only.
func handleAdminCreateWebhook(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			URL    string   `json:"url"`
			Events []string `json:"events"`
			Secret string   `json:"secret"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		e, err := co.CreateWebhookEndpoint(r.Context(), in.URL, in.Events, in.Secret)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		out := toWebhook(e)
		out.Secret = e.Secret
		writeJSON(w, http.StatusCreated, envelope{Data: out})
	})
}

// GET /admin/api/webhooks.
func handleAdminWebhooks(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		es, err := co.WebhookEndpoints(r.Context())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(es, toWebhook))
	})
}

// GET /admin/api/deliveries?event_id=&endpoint_id=&limit=: delivery attempts, newest first.
func handleAdminDeliveries(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := cashier.DeliveryFilter{EventID: q.Get("event_id")}
		var err error
		if f.EndpointID, err = optionalID(q, "endpoint_id"); err == nil {
			_, f.Limit, err = page(q, 50, 500)
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		ds, err := co.Deliveries(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(ds, toDelivery))
	})
}

// POST /admin/api/events/{event_id}/resend: {"endpoint_id"} or every endpoint.
func handleAdminResend(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			EndpointID int64 `json:"endpoint_id"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &in); err != nil && !errors.Is(err, errEmptyBody) {
				writeError(w, r, log, err)
				return
			}
		}
		if err := co.ResendEvent(r.Context(), r.PathValue("event_id"), in.EndpointID); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusAccepted, envelope{Data: map[string]any{"event_id": r.PathValue("event_id"), "endpoint_id": in.EndpointID}})
	})
}

// GET /admin/api/orders?status=&user_id=&before_id=&limit=: every user's
// orders, newest first.
func handleAdminOrders(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f, err := orderFilter(q, 50, 100)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f.UserID = q.Get("user_id")
		orders, err := co.AdminOrders(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(orders, toOrder))
	})
}

// GET /admin/api/inbound?channel=&out_trade_no=&outcome=&before_id=&limit=:
// the recorded channel messages, newest first.
func handleAdminInbound(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := cashier.InboundFilter{Channel: q.Get("channel"), OutTradeNo: q.Get("out_trade_no"), Outcome: q.Get("outcome")}
		var err error
		if f.BeforeID, f.Limit, err = page(q, 50, 500); err != nil {
			writeError(w, r, log, err)
			return
		}
		ms, err := co.InboundMessages(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(ms, toInbound))
	})
}

// POST /admin/api/payments/{id}/refund: refund in full a payment that needs
// a refund (late_refunds: manual).
func handleAdminRefundPayment(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		ref, err := co.RefundLatePayment(r.Context(), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusAccepted, envelope{OrderID: idString(ref.OrderID), Data: toRefund(ref)})
	})
}

// GET /admin/api/channels: the channels of this build, whether each is
// enabled here, its gateways and what it can do; the admin console's
// choices come from it.
func handleAdminChannels(co *checkout.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOK(w, list(co.Channels(), toChannel))
	})
}

// POST /admin/api/payments/{id}/refunded-outside: {"operator", "note"}: the
// money of a payment that needs a refund was given back outside cashier.
func handleAdminRefundedOutside(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		var in struct {
			Operator string `json:"operator"`
			Note     string `json:"note"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		ref, err := co.RefundedOutside(r.Context(), id, in.Operator, in.Note)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{OrderID: idString(ref.OrderID), Data: toRefund(ref)})
	})
}
