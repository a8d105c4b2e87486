package api

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"cashier"
	"cashier/checkout"
)

// payEnvelope answers a call that created a payment attempt: data is the
// channel's credential in its seed shape, order_id names the order.
func payEnvelope(p *checkout.Purchase) envelope {
	return envelope{OrderID: idString(p.Order.ID), Data: credentialData(p.Credential)}
}

func payRequest(r *http.Request, v url.Values) checkout.PayRequest {
	return checkout.PayRequest{
		Channel:  strings.TrimSpace(v.Get("channel")),
		Gateway:  strings.TrimSpace(v.Get("gateway")),
		ClientIP: clientIP(r),
	}
}

// POST /api/v1/order: buy a package (seed 004).
func handleCreateOrder(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := params(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		req := checkout.BuyPackageRequest{UserID: userID(r.Context()), Source: strings.TrimSpace(v.Get("source")), PayRequest: payRequest(r, v)}
		if req.PackageID, err = requiredID(v, "package_id"); err == nil {
			if req.CouponID, err = optionalID(v, "coupon_prop_id"); err == nil {
				req.CostOrderID, err = optionalID(v, "cost_order_id")
			}
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		p, err := co.BuyPackage(r.Context(), req)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, payEnvelope(p))
	})
}

// POST /api/v1/orders/{id}/pay: a new payment attempt for a pending order.
func handlePayOrder(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		v, err := params(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		p, err := co.Pay(r.Context(), userID(r.Context()), id, payRequest(r, v))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, payEnvelope(p))
	})
}

// POST /api/v1/orders/{id}/cancel.
func handleCancelOrder(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		o, err := co.Cancel(r.Context(), userID(r.Context()), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{OrderID: idString(o.ID), Data: toOrder(o)})
	})
}

// GET /api/v1/orders/{id}.
func handleOrder(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		o, err := co.Order(r.Context(), userID(r.Context()), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toOrder(o))
	})
}

// GET /api/v1/orders?status=&before_id=&limit=: newest first; next_before_id
// pages on.
func handleOrders(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := orderFilter(r.URL.Query(), 20, 100)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		list, err := co.Orders(r.Context(), userID(r.Context()), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		items := []orderJSON{}
		for i := range list {
			items = append(items, toOrder(&list[i]))
		}
		var next int64
		if len(list) == f.Limit {
			next = list[len(list)-1].ID
		}
		writeOK(w, map[string]any{"items": items, "next_before_id": next})
	})
}

// GET /api/v1/packages.
func handlePackages(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := co.Packages(r.Context())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		out := []packageJSON{}
		for i := range list {
			out = append(out, toPackage(&list[i]))
		}
		writeOK(w, out)
	})
}

// GET /api/v1/coupons.
func handleCoupons(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := co.Coupons(r.Context(), userID(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		out := []couponJSON{}
		for i := range list {
			out = append(out, toCoupon(&list[i]))
		}
		writeOK(w, out)
	})
}

func validStatus(s cashier.OrderStatus) bool {
	switch s {
	case "", cashier.OrderPending, cashier.OrderPaid, cashier.OrderFulfilled, cashier.OrderClosed,
		cashier.OrderRefunding, cashier.OrderRefunded, cashier.OrderPartiallyRefunded:
		return true
	}
	return false
}
