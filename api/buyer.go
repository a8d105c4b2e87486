package api

import (
	"log/slog"
	"net/http"
	"strconv"

	"cashier"
	"cashier/checkout"
)

// GET /api/v1/products: products with their standards (price in fen, stock).
func handleProducts(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps, err := co.Products(r.Context())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(ps, toProduct))
	})
}

// GET /api/v1/schemes: my customized schemes.
func handleSchemes(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, err := co.Schemes(r.Context(), userID(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(ss, toScheme))
	})
}

// GET /api/v1/cart/items.
func handleCartItems(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items, err := co.CartItems(r.Context(), userID(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(items, toCartItem))
	})
}

// POST /api/v1/cart/items: product_id, standard_id, count.
func handleAddToCart(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := params(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		ids, err := requiredIDs(v, "product_id", "standard_id", "count")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		item, err := co.AddToCart(r.Context(), userID(r.Context()), ids[0], ids[1], ids[2])
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toCartItem(item))
	})
}

// PATCH /api/v1/cart/items/{id}: count.
func handleSetCartCount(co *checkout.Service, log *slog.Logger) http.Handler {
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
		count, err := requiredID(v, "count")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		item, err := co.SetCartCount(r.Context(), userID(r.Context()), id, count)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toCartItem(item))
	})
}

// DELETE /api/v1/cart/items/{id}.
func handleRemoveFromCart(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if err := co.RemoveFromCart(r.Context(), userID(r.Context()), id); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, nil)
	})
}

// GET /api/v1/addresses.
func handleAddresses(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		as, err := co.Addresses(r.Context(), userID(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, list(as, toAddress))
	})
}

// POST /api/v1/addresses (create) and PUT /api/v1/addresses/{id} (replace):
// name, phone, region, detail, is_default.
func handleSaveAddress(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &cashier.Address{UserID: userID(r.Context())}
		if r.PathValue("id") != "" {
			id, err := pathID(r)
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			a.ID = id
		}
		v, err := params(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		a.Name, a.Phone, a.Region, a.Detail = v.Get("name"), v.Get("phone"), v.Get("region"), v.Get("detail")
		if s := v.Get("is_default"); s != "" {
			if a.IsDefault, err = strconv.ParseBool(s); err != nil {
				writeError(w, r, log, cashier.Errorf(cashier.EINVALID, "is_default must be true or false"))
				return
			}
		}
		if err := co.SaveAddress(r.Context(), a); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toAddress(a))
	})
}

// DELETE /api/v1/addresses/{id}.
func handleDeleteAddress(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if err := co.DeleteAddress(r.Context(), userID(r.Context()), id); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, nil)
	})
}

// POST /api/v1/addresses/{id}/default.
func handleSetDefaultAddress(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		a, err := co.SetDefaultAddress(r.Context(), userID(r.Context()), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toAddress(a))
	})
}
