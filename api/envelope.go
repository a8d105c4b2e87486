package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"cashier"
)

// envelope is the order API's response: code 0 and data on success; a non-zero
// code (the HTTP status) and a message saying what to fix on failure. OrderID
// lets every client reach the detail page of the order a call created or paid.
type envelope struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"` // the error's code, for programs
	OrderID string `json:"order_id,omitempty"`
	Data    any    `json:"data"`
}

var errInternal = errors.New("internal error")

// statusOf maps a domain error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case cashier.EINVALID:
		return http.StatusBadRequest
	case cashier.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case cashier.EFORBIDDEN:
		return http.StatusForbidden
	case cashier.ENOTFOUND:
		return http.StatusNotFound
	case cashier.ECONFLICT:
		return http.StatusConflict
	case cashier.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case cashier.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case cashier.ETOOMANY:
		return http.StatusTooManyRequests
	case cashier.ECHANNEL:
		return http.StatusBadGateway
	case cashier.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, envelope{Data: data})
}

// writeError answers with the error's status and message. Internal errors are
// logged with their detail and answered with a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = cashier.Errorf(cashier.ETOOLARGE, "request body is larger than %d bytes", mbe.Limit)
	}
	code := cashier.ErrorCode(err)
	status := statusOf(code)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, envelope{Code: status, Message: cashier.ErrorMessage(err), Error: code})
}

func handleNotFound(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, cashier.Errorf(cashier.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}
