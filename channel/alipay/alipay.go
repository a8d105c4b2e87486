// Package alipay is the Alipay channel (RSA2, gateway.do): it signs the app
// order string and the page/wap pay URLs, verifies notifications and browser
// returns, and queries and closes trades.
//
// Signing strings are built with gopay's BodyMap. gopay's alipay client is not
// used: its package needs modules this project does not require, and its base
// URLs are fixed, while cashier must talk to a configurable gateway (the
// sandbox). The RSA and certificate work is the standard library's.
package alipay

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"cashier"
)

// Gateways, in the order API's words.
const (
	GatewayApp = "app"
	GatewayWeb = "web"
	GatewayWap = "wap"
)

// Config is what the channel needs from the merchant's Alipay console.
type Config struct {
	AppID           string
	PrivateKey      *rsa.PrivateKey // app private key
	AlipayPublicKey *rsa.PublicKey  // platform key that signs notifications/returns (public-key mode)
	// Certificate mode (optional): when AppCert/AlipayRootCert/AlipayPublicCert
	// (PEM bytes) are set, requests carry app_cert_sn and alipay_root_cert_sn, and
	// AlipayPublicKey is taken from AlipayPublicCert.
	AppCert, AlipayRootCert, AlipayPublicCert []byte

	SellerID   string       // optional; when set, notifications must carry it
	GatewayURL string       // e.g. https://openapi.alipay.com/gateway.do, or the sandbox's
	HTTPClient *http.Client // for server-to-server calls; nil = a client with a 30s timeout
	Logger     *slog.Logger // nil = discard
}

// Alipay is the Alipay channel. It is safe for concurrent use.
type Alipay struct {
	appID      string
	key        *rsa.PrivateKey
	platform   *rsa.PublicKey
	sellerID   string
	gateway    string
	httpClient *http.Client
	log        *slog.Logger
	beijing    *time.Location

	// Certificate mode only.
	appCertSN, rootCertSN, platformCertSN string
}

var _ cashier.Channel = (*Alipay)(nil)

// New checks cfg and returns the channel.
func New(cfg Config) (*Alipay, error) {
	if cfg.AppID == "" {
		return nil, errors.New("alipay: AppID is required")
	}
	if cfg.PrivateKey == nil {
		return nil, errors.New("alipay: PrivateKey is required")
	}
	u, err := url.Parse(cfg.GatewayURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("alipay: GatewayURL %q must be an absolute http(s) URL without query", cfg.GatewayURL)
	}
	loc, err := beijingLocation()
	if err != nil {
		return nil, err
	}
	a := &Alipay{
		appID:      cfg.AppID,
		key:        cfg.PrivateKey,
		platform:   cfg.AlipayPublicKey,
		sellerID:   cfg.SellerID,
		gateway:    cfg.GatewayURL,
		httpClient: cfg.HTTPClient,
		log:        cfg.Logger,
		beijing:    loc,
	}
	if a.httpClient == nil {
		a.httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if cfg.AppCert != nil || cfg.AlipayRootCert != nil || cfg.AlipayPublicCert != nil {
		if err := a.useCertificates(cfg); err != nil {
			return nil, err
		}
	}
	if a.platform == nil {
		return nil, errors.New("alipay: AlipayPublicKey (or, in certificate mode, AlipayPublicCert) is required")
	}
	return a, nil
}

// useCertificates sets up certificate mode from the three certificates.
func (a *Alipay) useCertificates(cfg Config) error {
	if cfg.AppCert == nil || cfg.AlipayRootCert == nil || cfg.AlipayPublicCert == nil {
		return errors.New("alipay: certificate mode needs all of AppCert, AlipayRootCert and AlipayPublicCert")
	}
	appCert, err := parseCert(cfg.AppCert)
	if err != nil {
		return fmt.Errorf("alipay: AppCert: %w", err)
	}
	// A certificate for another key would make every request fail at Alipay
	// with a signature error; say so at start-up instead.
	if !a.key.PublicKey.Equal(appCert.PublicKey) {
		return errors.New("alipay: AppCert does not certify PrivateKey's public key")
	}
	platformCert, err := parseCert(cfg.AlipayPublicCert)
	if err != nil {
		return fmt.Errorf("alipay: AlipayPublicCert: %w", err)
	}
	platformKey, ok := platformCert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("alipay: AlipayPublicCert does not hold an RSA key")
	}
	if cfg.AlipayPublicKey != nil && !cfg.AlipayPublicKey.Equal(platformKey) {
		return errors.New("alipay: AlipayPublicKey and AlipayPublicCert disagree; set only one")
	}
	a.platform = platformKey
	a.appCertSN = certSN(appCert)
	if a.rootCertSN, err = RootCertSN(cfg.AlipayRootCert); err != nil {
		return fmt.Errorf("alipay: AlipayRootCert: %w", err)
	}
	a.platformCertSN = certSN(platformCert)
	return nil
}

// Name is the channel's name in the order API.
func (a *Alipay) Name() string { return cashier.ChannelAlipay }

// Gateways lists the gateways Prepare accepts.
func (a *Alipay) Gateways() []string { return []string{GatewayApp, GatewayWeb, GatewayWap} }
