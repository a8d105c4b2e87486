package alipay

import (
	"errors"
	"time"

	"cashier"
	"cashier/channel"
	"cashier/sandbox"
)

// DefaultGatewayURL is Alipay's production gateway.
const DefaultGatewayURL = "https://openapi.alipay.com/gateway.do"

// Settings is the "alipay" section of the configuration file: the merchant's
// credentials as files, the way the Alipay console hands them out.
type Settings struct {
	// Sandbox runs Alipay against the built-in simulator with generated
	// keys; the credential fields are then ignored.
	Sandbox              bool             `json:"sandbox"`
	AppID                string           `json:"app_id"`
	PrivateKeyFile       string           `json:"private_key_file"`        // app private key: PEM, or base64 PKCS#1/PKCS#8
	AlipayPublicKeyFile  string           `json:"alipay_public_key_file"`  // public-key mode
	AppCertFile          string           `json:"app_cert_file"`           // certificate mode: appCertPublicKey.crt
	AlipayRootCertFile   string           `json:"alipay_root_cert_file"`   // certificate mode: alipayRootCert.crt
	AlipayPublicCertFile string           `json:"alipay_public_cert_file"` // certificate mode: alipayCertPublicKey_RSA2.crt
	SellerID             string           `json:"seller_id"`
	GatewayURL           string           `json:"gateway_url"` // default DefaultGatewayURL
	Timeout              channel.Duration `json:"timeout"`     // server-to-server calls; default 10s
}

// Defaults fills in the gateway and the timeout.
func (s *Settings) Defaults() {
	if s.GatewayURL == "" {
		s.GatewayURL = DefaultGatewayURL
	}
	if s.Timeout <= 0 {
		s.Timeout = channel.Duration(10 * time.Second)
	}
}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every missing credential.
func (s *Settings) Check() []error {
	if s.Sandbox {
		return nil
	}
	var errs []error
	if s.AppID == "" {
		errs = append(errs, errors.New("alipay.app_id is required"))
	}
	if s.PrivateKeyFile == "" {
		errs = append(errs, errors.New("alipay.private_key_file is required"))
	}
	certMode := s.AppCertFile != "" || s.AlipayRootCertFile != "" || s.AlipayPublicCertFile != ""
	if !certMode && s.AlipayPublicKeyFile == "" {
		errs = append(errs, errors.New("alipay: set alipay_public_key_file, or the three certificate files"))
	}
	return errs
}

// open reads the key files of s and opens the channel.
func open(set channel.Settings, env channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	key, err := channel.ReadRSAPrivateKey("alipay.private_key_file", s.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	cfg := Config{AppID: s.AppID, PrivateKey: key, SellerID: s.SellerID, GatewayURL: s.GatewayURL,
		HTTPClient: env.Client(time.Duration(s.Timeout)), Logger: env.Logger}
	if s.AlipayPublicKeyFile != "" {
		if cfg.AlipayPublicKey, err = channel.ReadRSAPublicKey("alipay.alipay_public_key_file", s.AlipayPublicKeyFile); err != nil {
			return nil, err
		}
	}
	if cfg.AppCert, err = channel.ReadFile("alipay.app_cert_file", s.AppCertFile); err != nil {
		return nil, err
	}
	if cfg.AlipayRootCert, err = channel.ReadFile("alipay.alipay_root_cert_file", s.AlipayRootCertFile); err != nil {
		return nil, err
	}
	if cfg.AlipayPublicCert, err = channel.ReadFile("alipay.alipay_public_cert_file", s.AlipayPublicCertFile); err != nil {
		return nil, err
	}
	return New(cfg)
}

// Spec describes the Alipay channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/alipay.Open).
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:          cashier.ChannelAlipay,
		TradeNoPrefix: "ALI",
		NewSettings:   func() channel.Settings { return &Settings{} },
		Open:          open,
		Simulator:     simulator,
	}
}
