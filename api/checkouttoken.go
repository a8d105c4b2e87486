package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"cashier"
)

// CheckoutLinks makes and reads the links of the checkout page: a token
// that names one order, where to send the buyer back, and until when it
// works, signed with HMAC-SHA256. The page needs no login, and a token
// cannot be altered to show another order.
type CheckoutLinks struct {
	Key []byte
	// ReturnOrigins are the origins (scheme://host[:port]) a return_url may
	// point at: no open redirect.
	ReturnOrigins []string
}

// checkoutClaims is what a checkout token says.
type checkoutClaims struct {
	OrderID   int64  `json:"o"`
	Expires   int64  `json:"e"` // unix seconds
	ReturnURL string `json:"r,omitempty"`
}

// checkoutLinger is how long a checkout link keeps working after its order
// expires: long enough to show the buyer what became of it.
const checkoutLinger = time.Hour

// Issue makes the token of an order's checkout page.
func (c CheckoutLinks) Issue(orderID int64, expires time.Time, returnURL string) string {
	payload, _ := json.Marshal(checkoutClaims{OrderID: orderID, Expires: expires.Unix(), ReturnURL: returnURL})
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(c.mac(p))
}

func (c CheckoutLinks) mac(payload string) []byte {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte("cashier checkout\x00" + payload))
	return m.Sum(nil)
}

// Read checks a token and returns what it says.
func (c CheckoutLinks) Read(token string, now time.Time) (*checkoutClaims, error) {
	p, sig, ok := strings.Cut(token, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(mac, c.mac(p)) {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "this checkout link is not valid")
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	var cl checkoutClaims
	if err != nil || json.Unmarshal(raw, &cl) != nil {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "this checkout link is not valid")
	}
	if now.Unix() > cl.Expires {
		return nil, cashier.Errorf(cashier.ENOTFOUND, "this checkout link has expired")
	}
	return &cl, nil
}

// CheckReturnURL accepts "" or an absolute http(s) URL on an allowed origin.
func (c CheckoutLinks) CheckReturnURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(s) > 2048 {
		return cashier.Errorf(cashier.EINVALID, "return_url must be an absolute http(s) URL")
	}
	if !slices.Contains(c.ReturnOrigins, u.Scheme+"://"+u.Host) {
		return cashier.Errorf(cashier.EINVALID, "return_url's origin %s://%s is not one of the configured checkout_return_origins", u.Scheme, u.Host)
	}
	return nil
}
