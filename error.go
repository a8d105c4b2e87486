package cashier

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to a status; the message is written for
// the API client and must never carry a secret or an internal detail.
const (
	EINVALID       = "invalid"       // bad input: 400
	EUNAUTHORIZED  = "unauthorized"  // missing or bad credentials: 401
	EFORBIDDEN     = "forbidden"     // authenticated but not allowed, or a bad signature: 403
	ENOTFOUND      = "not_found"     // 404
	ECONFLICT      = "conflict"      // the resource's state forbids it: 409
	ETOOLARGE      = "too_large"     // request body over the limit: 413
	EUNPROCESSABLE = "unprocessable" // a business rule says no: 422
	ETOOMANY       = "too_many"      // too many requests from one client: 429
	ECHANNEL       = "channel_error" // the payment channel failed or refused: 502
	EUNAVAILABLE   = "unavailable"   // not enabled or not reachable now: 503
	EINTERNAL      = "internal"      // a bug or an infrastructure failure: 500
)

// Error is a domain error: a code for machines and a message for people.
type Error struct {
	Code    string
	Message string
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrPackageChanged is the store's refusal of an order line priced from a
// package that has since changed (price, name) or been withdrawn: the order
// is priced again.
var ErrPackageChanged = &Error{Code: ECONFLICT, Message: "the package changed while the order was being placed: order again"}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that keeps err as its cause.
func WrapError(err error, code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-facing message of err; internal errors get a
// generic message so that nothing internal leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
