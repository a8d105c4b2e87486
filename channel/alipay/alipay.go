// Package alipay is the Alipay channel (RSA2, gateway.do): it signs the app
// order string and the page/wap pay URLs, verifies notifications and browser
// returns, and queries, closes and refunds trades.
//
// The protocol work is gopay's (github.com/go-pay/gopay/alipay): its Client
// builds and signs every request (TradeAppPay, TradePagePay, TradeWapPay,
// TradeQuery, TradeClose, TradeRefund, TradeFastPayRefundQuery), its
// VerifySign functions check notifications and returns, its VerifySyncSign
// checks gateway answers, and its GetCertSN and GetRootCertSN compute the
// certificate SNs. What remains here is what gopay
// does not do: validating orders, pointing gopay's fixed production URLs at
// the configured gateway (the sandbox, tests), and checking the signature of
// the gateway's refusals, which gopay returns unverified.
package alipay

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/go-pay/gopay"
	gopayalipay "github.com/go-pay/gopay/alipay"

	"cashier"
	"cashier/channel/internal/gopaykit"
)

// Gateways, in the order API's words.
const (
	GatewayApp = "app"
	GatewayWeb = "web"
	GatewayWap = "wap"
	// GatewayQR is 当面付 (alipay.trade.precreate): Alipay answers a
	// qr_code for the buyer to scan; cashier's checkout page draws it.
	GatewayQR = "qr"
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

// Alipay is the Alipay channel. It is safe for concurrent use: the gopay
// client is set up once in New and only read afterwards (its methods take
// everything that varies per call from the BodyMap).
type Alipay struct {
	appID    string
	client   *gopayalipay.Client
	sellerID string
	gateway  string
	log      *slog.Logger

	// platformKey is the Alipay public key as gopay's verification functions
	// take it: base64 of the DER public key, as Alipay's console shows it.
	platformKey string
	// platformPub is the same key, parsed once: notifications are verified
	// against it (gopay's VerifySign would parse the key at every call).
	platformPub *rsa.PublicKey

	// Certificate mode only: the Alipay public certificate (one PEM block)
	// and its SN.
	platformCert   []byte
	platformCertSN string
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
	gw, err := url.Parse(cfg.GatewayURL)
	if err != nil || (gw.Scheme != "https" && gw.Scheme != "http") || gw.Host == "" || gw.RawQuery != "" || gw.Fragment != "" {
		return nil, fmt.Errorf("alipay: GatewayURL %q must be an absolute http(s) URL without query", cfg.GatewayURL)
	}
	// gopay takes the key as Alipay's console shows it: base64 DER, no PEM
	// armour. Its parse error would quote the key, so it is not passed on.
	client, err := gopayalipay.NewClient(cfg.AppID, base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(cfg.PrivateKey)), true)
	if err != nil {
		return nil, errors.New("alipay: PrivateKey cannot be used for signing")
	}
	// Alipay reads timestamps as China Standard Time; the zone database is
	// embedded (beijing.go), so gopay cannot fail to load it.
	client.SetLocation("Asia/Shanghai")
	// Debug output would dump requests to stdout; gopay's other messages go
	// to the channel's logger.
	client.DebugSwitch = gopay.DebugOff
	a := &Alipay{
		appID:    cfg.AppID,
		client:   client,
		sellerID: cfg.SellerID,
		gateway:  cfg.GatewayURL,
		log:      cfg.Logger,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	client.SetLogger(gopaykit.NewLogger(a.log))
	client.SetHttpClient(gatewayClient(cfg.HTTPClient, gw))

	platform := cfg.AlipayPublicKey
	if cfg.AppCert != nil || cfg.AlipayRootCert != nil || cfg.AlipayPublicCert != nil {
		if platform, err = a.useCertificates(cfg); err != nil {
			return nil, err
		}
	}
	if platform == nil {
		return nil, errors.New("alipay: AlipayPublicKey (or, in certificate mode, AlipayPublicCert) is required")
	}
	der, err := x509.MarshalPKIXPublicKey(platform)
	if err != nil {
		return nil, fmt.Errorf("alipay: AlipayPublicKey: %w", err)
	}
	a.platformKey = base64.StdEncoding.EncodeToString(der)
	a.platformPub = platform
	return a, nil
}

// useCertificates sets up certificate mode from the three certificates and
// returns the platform key, taken from the Alipay public certificate.
func (a *Alipay) useCertificates(cfg Config) (*rsa.PublicKey, error) {
	if cfg.AppCert == nil || cfg.AlipayRootCert == nil || cfg.AlipayPublicCert == nil {
		return nil, errors.New("alipay: certificate mode needs all of AppCert, AlipayRootCert and AlipayPublicCert")
	}
	appCert, err := parseCert(cfg.AppCert)
	if err != nil {
		return nil, fmt.Errorf("alipay: AppCert: %w", err)
	}
	// A certificate for another key would make every request fail at Alipay
	// with a signature error; say so at start-up instead.
	if !cfg.PrivateKey.PublicKey.Equal(appCert.PublicKey) {
		return nil, errors.New("alipay: AppCert does not certify PrivateKey's public key")
	}
	platformCert, err := parseCert(cfg.AlipayPublicCert)
	if err != nil {
		return nil, fmt.Errorf("alipay: AlipayPublicCert: %w", err)
	}
	platformKey, ok := platformCert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("alipay: AlipayPublicCert does not hold an RSA key")
	}
	if cfg.AlipayPublicKey != nil && !cfg.AlipayPublicKey.Equal(platformKey) {
		return nil, errors.New("alipay: AlipayPublicKey and AlipayPublicCert disagree; set only one")
	}
	// gopay reads only the first PEM block of a certificate file; handing it
	// exactly the certificates parsed above means it reads what was checked.
	// The app and platform certificates therefore cannot fail in
	// SetCertSnByContent: only the root bundle can.
	a.platformCert = certPEM(platformCert)
	if err := a.client.SetCertSnByContent(certPEM(appCert), cfg.AlipayRootCert, a.platformCert); err != nil {
		return nil, fmt.Errorf("alipay: AlipayRootCert: %w", err)
	}
	a.platformCertSN = a.client.AliPayPublicCertSN
	// gopay verifies successful gateway answers itself in certificate mode,
	// including that they name this Alipay certificate (alipay_cert_sn).
	a.client.AutoVerifySign(a.platformCert)
	return platformKey, nil
}

// Name is the channel's name in the order API.
func (a *Alipay) Name() string { return cashier.ChannelAlipay }

// Gateways lists the gateways Prepare accepts.
func (a *Alipay) Gateways() []string { return []string{GatewayApp, GatewayWeb, GatewayWap, GatewayQR} }

// WebGateways: the precreated qr_code drawn on a computer, wap pay on a
// phone.
func (a *Alipay) WebGateways() cashier.WebGateways {
	return cashier.WebGateways{Computer: GatewayQR, ComputerQR: true, Phone: GatewayWap}
}

func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}
