package app

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"cashier/channel/alipay"
	"cashier/pemkey"
)

// alipay returns the configured Alipay channel, or nil when Alipay is not
// configured and runs in sandbox mode.
func (a *App) alipay(opts Options) (*alipay.Alipay, error) {
	c := a.Config.Alipay
	if c == nil {
		return nil, nil
	}
	read := func(name, path string) ([]byte, error) {
		if path == "" {
			return nil, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("alipay.%s: %w", name, err)
		}
		return b, nil
	}
	keyPEM, err := read("private_key_file", c.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	key, err := pemkey.ParseRSAPrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("alipay.private_key_file: %w", err)
	}
	cfg := alipay.Config{AppID: c.AppID, PrivateKey: key, SellerID: c.SellerID, GatewayURL: c.GatewayURL,
		HTTPClient: opts.HTTPClient, Logger: opts.Logger}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: time.Duration(c.Timeout)}
	}
	if pubPEM, err := read("alipay_public_key_file", c.AlipayPublicKeyFile); err != nil {
		return nil, err
	} else if pubPEM != nil {
		if cfg.AlipayPublicKey, err = pemkey.ParseRSAPublicKey(pubPEM); err != nil {
			return nil, fmt.Errorf("alipay.alipay_public_key_file: %w", err)
		}
	}
	if cfg.AppCert, err = read("app_cert_file", c.AppCertFile); err != nil {
		return nil, err
	}
	if cfg.AlipayRootCert, err = read("alipay_root_cert_file", c.AlipayRootCertFile); err != nil {
		return nil, err
	}
	if cfg.AlipayPublicCert, err = read("alipay_public_cert_file", c.AlipayPublicCertFile); err != nil {
		return nil, err
	}
	return alipay.New(cfg)
}
