// Package adapay is the AdaPay channel (汇付): it places payments through
// AdaPay's REST API (/v1/payments: create, query, close, refund), verifies
// its webhooks, and answers them. Requests carry the api key and a
// SHA1withRSA signature by the merchant's key over the URL and the exact
// body; AdaPay signs its answers' and webhooks' data with its own key.
package adapay

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cashier"
)

// GatewayAlipay is the one gateway: Alipay, paid by scanning or opening the
// QR link of an alipay_qr payment.
const GatewayAlipay = "alipay"

// DefaultBaseURL is AdaPay's API host.
const DefaultBaseURL = "https://api.adapay.tech"

// Config is what the channel needs from the merchant's AdaPay console.
type Config struct {
	AppID      string
	APIKey     string          // the live (or test) api key: the Authorization header
	PrivateKey *rsa.PrivateKey // the merchant's key: signs requests
	PublicKey  *rsa.PublicKey  // AdaPay's: verifies answers and webhooks
	BaseURL    string          // default DefaultBaseURL
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// AdaPay is the AdaPay channel.
type AdaPay struct {
	cfg Config
	log *slog.Logger
}

var (
	_ cashier.Channel        = (*AdaPay)(nil)
	_ cashier.Querier        = (*AdaPay)(nil)
	_ cashier.Closer         = (*AdaPay)(nil)
	_ cashier.Refunder       = (*AdaPay)(nil)
	_ cashier.MessageReplier = (*AdaPay)(nil)
)

// New checks cfg and returns the channel.
func New(cfg Config) (*AdaPay, error) {
	if cfg.AppID == "" || cfg.APIKey == "" || cfg.PrivateKey == nil || cfg.PublicKey == nil {
		return nil, errors.New("adapay: AppID, APIKey, PrivateKey and PublicKey are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("adapay: BaseURL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AdaPay{cfg: cfg, log: log}, nil
}

// Name is the channel's name in the order API.
func (a *AdaPay) Name() string { return cashier.ChannelAdaPay }

// Gateways are the ways AdaPay is paid here.
func (a *AdaPay) Gateways() []string { return []string{GatewayAlipay} }

// WebGateways: the alipays:// link, drawn as a QR code on a computer and
// opened by a button on a phone.
func (a *AdaPay) WebGateways() cashier.WebGateways {
	return cashier.WebGateways{Computer: GatewayAlipay, ComputerQR: true, Phone: GatewayAlipay}
}

// BindsChannelTradeNo: AdaPay signs every merchant's webhooks with one key,
// so only the payment id cashier was given ties a webhook to our payment.
func (a *AdaPay) BindsChannelTradeNo() bool { return true }

// Reply is the answer to a webhook without knowing it: 200, or 500 for
// AdaPay to send it again. ReplyTo is what cashier answers.
func (a *AdaPay) Reply(ok bool) cashier.NotifyReply {
	if !ok {
		return cashier.NotifyReply{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: []byte("retry")}
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte("RECV_ORD_ID_")}
}

// ReplyTo acknowledges a webhook with 200 and RECV_ORD_ID_ followed by the
// last 32 characters of its payment's id: what AdaPay's current rule (any
// 200) and its older one (that body) both accept. Anything to be sent again
// is a 500.
func (a *AdaPay) ReplyTo(req *cashier.InboundRequest, ok bool) cashier.NotifyReply {
	reply := a.Reply(ok)
	if ok && req != nil {
		id := paymentIDOf(req.Body)
		reply.Body = []byte("RECV_ORD_ID_" + id[max(0, len(id)-32):])
	}
	return reply
}

// paymentIDOf reads the payment id a webhook is about: its data's
// payment_id (refunds) or id (payments); "" when there is none.
func paymentIDOf(body []byte) string {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	var data struct {
		ID        string `json:"id"`
		PaymentID string `json:"payment_id"`
	}
	if json.Unmarshal([]byte(values.Get("data")), &data) != nil {
		return ""
	}
	if data.PaymentID != "" {
		return data.PaymentID
	}
	return data.ID
}
