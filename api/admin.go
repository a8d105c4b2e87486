package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"cashier"
	"cashier/checkout"
)

// Admin lets a request through only with the admin token.
type Admin struct {
	sum [32]byte // of the token: compared in constant time, never kept in clear
	log *slog.Logger
}

// NewAdmin returns an Admin for token, which must be at least 32 characters.
func NewAdmin(token string, log *slog.Logger) (*Admin, error) {
	if len(token) < 32 {
		return nil, errors.New("admin token must be at least 32 characters")
	}
	return &Admin{sum: sha256.Sum256([]byte(token)), log: log}, nil
}

// Only wraps an admin endpoint.
func (a *Admin) Only(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || subtle.ConstantTimeCompare(sum[:], a.sum[:]) != 1 {
			a.log.InfoContext(r.Context(), "admin request without a valid token", "path", r.URL.Path, "remote_addr", r.RemoteAddr)
			writeError(w, r, a.log, cashier.Errorf(cashier.EUNAUTHORIZED, "admin token required: send Authorization: Bearer <admin token>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errEmptyBody is decodeJSON's answer to a request without a body.
var errEmptyBody = cashier.Errorf(cashier.EINVALID, "the request has no JSON body")

// decodeJSON reads a JSON object body into v; unknown fields are errors, so a
// typo is not silently ignored, and every string must be text.
func decodeJSON(r *http.Request, v any) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errEmptyBody
	}
	if ct != "application/json" && !looksLikeJSON(body) {
		return cashier.Errorf(cashier.EINVALID, "send a JSON body (Content-Type: application/json)")
	}
	if _, err := decodeJSONObject(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cashier.Errorf(cashier.EINVALID, "bad JSON body: %s", truncate(err.Error(), 120))
	}
	return nil
}

type standardInput struct {
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Stock int64  `json:"stock"`
}

// POST /admin/api/products: {"name", "standards": [{"name", "price", "stock"}]}.
func handleAdminCreateProduct(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name      string          `json:"name"`
			Standards []standardInput `json:"standards"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		p := &cashier.Product{Name: in.Name}
		for _, s := range in.Standards {
			p.Standards = append(p.Standards, cashier.Standard{Name: s.Name, Price: s.Price, Stock: s.Stock})
		}
		if err := co.CreateProduct(r.Context(), p); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, envelope{Data: toProduct(p)})
	})
}

// POST /admin/api/products/{id}/standards: {"name", "price", "stock"}.
func handleAdminAddStandard(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		var in standardInput
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		st := &cashier.Standard{ProductID: id, Name: in.Name, Price: in.Price, Stock: in.Stock}
		if err := co.AddStandard(r.Context(), st); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, envelope{Data: toStandard(st)})
	})
}

// PUT /admin/api/standards/{id}/stock: {"stock"}.
func handleAdminSetStock(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		var in struct {
			Stock *int64 `json:"stock"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		if in.Stock == nil {
			writeError(w, r, log, cashier.Errorf(cashier.EINVALID, "stock is required"))
			return
		}
		st, err := co.SetStock(r.Context(), id, *in.Stock)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeOK(w, toStandard(st))
	})
}

// POST /admin/api/schemes: {"user_id", "name", "price"}.
func handleAdminCreateScheme(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID string `json:"user_id"`
			Name   string `json:"name"`
			Price  int64  `json:"price"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		sc := &cashier.Scheme{UserID: in.UserID, Name: in.Name, Price: in.Price}
		if err := co.CreateScheme(r.Context(), sc); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, envelope{Data: toScheme(sc)})
	})
}

// POST /admin/api/packages: {"name", "price", "apple_product_id", "gold", "diamond"}.
func handleAdminCreatePackage(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name           string `json:"name"`
			Price          int64  `json:"price"`
			AppleProductID string `json:"apple_product_id"`
			Gold           int64  `json:"gold"`
			Diamond        int64  `json:"diamond"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		p := &cashier.Package{Name: in.Name, Price: in.Price, AppleProductID: in.AppleProductID, Gold: in.Gold, Diamond: in.Diamond}
		if err := co.CreatePackage(r.Context(), p); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, envelope{Data: toPackage(p)})
	})
}

// POST /admin/api/coupons: {"user_id", "name", "discount", "min_amount", "expires_at"}.
func handleAdminCreateCoupon(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID    string    `json:"user_id"`
			Name      string    `json:"name"`
			Discount  int64     `json:"discount"`
			MinAmount int64     `json:"min_amount"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, log, err)
			return
		}
		c := &cashier.Coupon{UserID: in.UserID, Name: in.Name, Discount: in.Discount, MinAmount: in.MinAmount, ExpiresAt: in.ExpiresAt}
		if err := co.CreateCoupon(r.Context(), c); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, envelope{Data: toCoupon(c)})
	})
}
