// Package wechat is the WeChat Pay channel, API v2 (XML, MD5 or HMAC-SHA256
// with the API key) or API v3 (JSON, SHA256withRSA), chosen by
// configuration. It places orders (unifiedorder, or the v3 app/native/h5
// transactions) and builds what the client pays with, verifies payment and
// refund notifications, queries and closes trades, and refunds them.
//
// The protocol work is gopay's: github.com/go-pay/gopay/wechat signs and
// sends v2 requests (refunds over its client-certificate TLS client) and
// computes and checks v2 signatures (GetReleaseSign, VerifySign,
// GetAppPaySign) and decrypts refund notifications
// (DecryptRefundNotifyReqInfo), github.com/go-pay/gopay/wechat/v3 signs and
// sends v3 requests, checks v3 signatures (V3VerifySignByPK) and decrypts
// notification resources (V3DecryptNotifyCipherTextToBytes). What remains
// here is what gopay does not do, or cannot do with an injected clock:
// choosing the v3 platform key by Wechatpay-Serial and bounding the
// Wechatpay-Timestamp window, keeping the raw bytes of v2 answers (whose
// signature gopay leaves unchecked), and the v3 APP re-sign (gopay's stamps
// the wall clock rather than the attempt's time).
package wechat

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/pkg/xhttp"
	gopaywechat "github.com/go-pay/gopay/wechat"
	gopaywechat3 "github.com/go-pay/gopay/wechat/v3"

	"cashier"
	"cashier/channel/internal/gopaykit"
)

// Gateways, in the order API's words. GatewayWeb is withdrawn: WeChat Pay
// has no desktop web payment; Prepare refuses it with a message saying so.
const (
	GatewayApp  = "app"  // APP: the SDK parameters the app pays with
	GatewayScan = "scan" // NATIVE: a QR code URL (weixin://wxpay/bizpayurl?pr=…)
	GatewayWap  = "wap"  // MWEB / h5: a URL a mobile browser opens
	GatewayWeb  = "web"
)

// v2 sign types.
const (
	SignTypeMD5        = gopaywechat.SignType_MD5
	SignTypeHMACSHA256 = gopaywechat.SignType_HMAC_SHA256
)

// DefaultBaseURL is WeChat Pay's API host, for both API versions.
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// wechatHosts are WeChat Pay's own API hosts (the second is its backup
// domain): with them, v2 refunds need Config.ClientCert.
var wechatHosts = []string{"api.mch.weixin.qq.com", "api2.mch.weixin.qq.com"}

// timestampWindow is how far a v3 Wechatpay-Timestamp may be from now.
const timestampWindow = 5 * time.Minute

// Config is what the channel needs from the merchant's WeChat Pay console.
type Config struct {
	AppID, MchID string
	APIVersion   int // 2 (default) or 3

	// v2
	APIKey   string // the 32-character API key
	SignType string // SignTypeMD5 (default) or SignTypeHMACSHA256
	// ClientCert is the merchant API certificate and its key
	// (apiclient_cert.pem, apiclient_key.pem; tls.X509KeyPair reads them),
	// which v2 refunds (/secapi/pay/refund) present in the TLS handshake.
	// WeChat Pay refuses refunds without it: it is required in production.
	// Nil sends refunds with the plain client, which is how the sandbox is
	// reached. It needs HTTPClient's Transport to be an *http.Transport (or
	// nil). v3 does not use it.
	ClientCert *tls.Certificate

	// v3
	APIv3Key   string          // 32 bytes: the AES-256-GCM key of notification resources
	PrivateKey *rsa.PrivateKey // merchant API private key: signs requests and the APP re-sign
	SerialNo   string          // serial number of the merchant API certificate
	// PlatformKeys verify answers and notifications, by the Wechatpay-Serial
	// they name: platform certificate serials, or a WeChat Pay public key id
	// ("PUB_KEY_ID_…").
	PlatformKeys map[string]*rsa.PublicKey

	BaseURL    string           // default DefaultBaseURL; the sandbox: http://127.0.0.1:port/sandbox/wechat
	HTTPClient *http.Client     // its Timeout bounds each call; nil = a client with a 10s timeout
	Now        func() time.Time // nil = time.Now; bounds the v3 timestamp window, stamps APP re-signs
	Logger     *slog.Logger     // nil = discard
}

// WeChat is the WeChat Pay channel. It is safe for concurrent use: the gopay
// clients are set up in New and only read afterwards (everything that varies
// per call travels in the call's BodyMap).
type WeChat struct {
	appID, mchID string
	version      int
	baseURL      string
	now          func() time.Time
	log          *slog.Logger

	// v2
	apiKey   string
	signType string
	v2       *gopaywechat.Client

	// v3
	v3           *gopaywechat3.ClientV3
	apiV3Key     string
	privateKey   *rsa.PrivateKey
	platformKeys map[string]*rsa.PublicKey
}

var (
	_ cashier.Channel  = (*WeChat)(nil)
	_ cashier.Querier  = (*WeChat)(nil)
	_ cashier.Closer   = (*WeChat)(nil)
	_ cashier.Refunder = (*WeChat)(nil)
)

// New checks cfg and returns the channel. Its errors never quote a key.
func New(cfg Config) (*WeChat, error) {
	if cfg.AppID == "" || cfg.MchID == "" {
		return nil, errors.New("wechat: AppID and MchID are required")
	}
	w := &WeChat{
		appID:   cfg.AppID,
		mchID:   cfg.MchID,
		version: cfg.APIVersion,
		now:     cfg.Now,
		log:     cfg.Logger,
	}
	if w.version == 0 {
		w.version = 2
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("wechat: BaseURL %q must be an absolute http(s) URL without query", cfg.BaseURL)
	}
	// gopay appends paths that start with "/".
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	w.baseURL = u.String()
	hc := upstreamClient(cfg.HTTPClient, u)

	switch w.version {
	case 2:
		err = w.setupV2(cfg, hc, u)
	case 3:
		err = w.setupV3(cfg, hc)
	default:
		err = fmt.Errorf("wechat: APIVersion %d is not supported: use 2 or 3", cfg.APIVersion)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (w *WeChat) setupV2(cfg Config, hc *xhttp.Client, base *url.URL) error {
	if len(cfg.APIKey) != 32 {
		return errors.New("wechat: APIKey must be the 32-character API key of the merchant console")
	}
	w.apiKey = cfg.APIKey
	w.signType = cfg.SignType
	if w.signType == "" {
		w.signType = SignTypeMD5
	}
	if w.signType != SignTypeMD5 && w.signType != SignTypeHMACSHA256 {
		return fmt.Errorf("wechat: SignType %q is not supported: use %s or %s", cfg.SignType, SignTypeMD5, SignTypeHMACSHA256)
	}
	// isProd=false would send every call to WeChat's retired sandbox, after
	// fetching a sandbox key from its production host.
	c := gopaywechat.NewClient(cfg.AppID, cfg.MchID, cfg.APIKey, true)
	// The v2 client takes its base URL as a field: no rewriting is needed.
	c.BaseURL = w.baseURL
	c.DebugSwitch = gopay.DebugOff // debug output would print the signing string, key included
	c.SetLogger(gopaykit.NewLogger(w.log))
	c.SetHttpClient(hc)
	// gopay sends refunds with its TLS client, everything else with the
	// plain one.
	tlsHC := hc
	if cfg.ClientCert != nil {
		certHC, err := withClientCert(cfg.HTTPClient, cfg.ClientCert)
		if err != nil {
			return err
		}
		tlsHC = upstreamClient(certHC, base)
	} else if slices.Contains(wechatHosts, base.Hostname()) {
		w.log.Warn("wechat: no ClientCert: WeChat Pay refuses v2 refunds without the merchant API certificate (apiclient_cert.pem)")
	}
	c.SetTLSHttpClient(tlsHC)
	w.v2 = c
	return nil
}

func (w *WeChat) setupV3(cfg Config, hc *xhttp.Client) error {
	if len(cfg.APIv3Key) != 32 {
		return errors.New("wechat: APIv3Key must be the 32-byte APIv3 key of the merchant console")
	}
	if cfg.PrivateKey == nil || cfg.SerialNo == "" {
		return errors.New("wechat: API v3 needs PrivateKey and SerialNo (the merchant API certificate's)")
	}
	if len(cfg.PlatformKeys) == 0 {
		return errors.New("wechat: API v3 needs PlatformKeys: the platform certificates' keys, or the WeChat Pay public key, by serial")
	}
	for serial, key := range cfg.PlatformKeys {
		if serial == "" || key == nil {
			return errors.New("wechat: PlatformKeys holds an empty serial or a nil key")
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(cfg.PrivateKey)
	if err != nil {
		return errors.New("wechat: PrivateKey cannot be encoded")
	}
	// gopay takes the key as the console's apiclient_key.pem. Its parse
	// errors quote the key, so they are not passed on.
	c, err := gopaywechat3.NewClientV3(cfg.MchID, cfg.SerialNo, cfg.APIv3Key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil {
		return errors.New("wechat: PrivateKey cannot be used for signing")
	}
	c.SetProxyHost(w.baseURL)
	c.DebugSwitch = gopay.DebugOff
	c.SetLogger(gopaykit.NewLogger(w.log))
	c.SetHttpClient(hc)
	// Answers are verified here (verifyV3), not by gopay's AutoVerifySign:
	// gopay checks no timestamp window, and on an unknown serial it would
	// fetch certificates on its own.
	//
	// With a WeChat Pay public key, requests name its id in Wechatpay-Serial
	// (gopay sends WxSerialNo there), which asks WeChat Pay to sign its
	// answers with that key. Uncertain whether WeChat requires it; it does
	// no harm with platform certificates, where the header stays empty.
	for _, serial := range slices.Sorted(maps.Keys(cfg.PlatformKeys)) {
		if strings.HasPrefix(serial, "PUB_KEY_ID_") {
			c.WxSerialNo = serial
			break
		}
	}
	w.v3 = c
	w.apiV3Key = cfg.APIv3Key
	w.privateKey = cfg.PrivateKey
	w.platformKeys = maps.Clone(cfg.PlatformKeys)
	return nil
}

// Name is the channel's name in the order API.
func (w *WeChat) Name() string { return cashier.ChannelWechat }

// Gateways lists the gateways Prepare accepts.
func (w *WeChat) Gateways() []string { return []string{GatewayApp, GatewayScan, GatewayWap} }

// WebGateways: the NATIVE code_url drawn as a QR code on a computer, H5 pay
// on a phone.
func (w *WeChat) WebGateways() cashier.WebGateways {
	return cashier.WebGateways{Computer: GatewayScan, ComputerQR: true, Phone: GatewayWap, PhoneReturn: "redirect_url"}
}

// CheckGateway refuses web, which WeChat Pay withdrew (it has no desktop web
// payment), saying what to use instead; other gateways must be listed.
func (w *WeChat) CheckGateway(gateway string) error {
	if gateway == GatewayWeb {
		return cashier.Errorf(cashier.EINVALID, "gateway \"web\" of channel wechat is withdrawn: use \"scan\" for PC web pages")
	}
	return cashier.CheckGateway(w, gateway)
}

// RecordedHeaders are the headers v3 notifications are signed in: evidence,
// kept with each message.
func (w *WeChat) RecordedHeaders() []string {
	return []string{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial", "Wechatpay-Signature-Type"}
}

// APIVersion is the WeChat Pay API version the channel speaks: 2 or 3.
func (w *WeChat) APIVersion() int { return w.version }
