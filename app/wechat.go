package app

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"cashier/channel/wechat"
	"cashier/pemkey"
)

// wechat returns the configured WeChat Pay channel, or nil when WeChat Pay
// runs in sandbox mode.
func (a *App) wechat(opts Options) (*wechat.WeChat, error) {
	c := a.Config.WeChat
	if c == nil || c.Sandbox {
		return nil, nil
	}
	cfg := wechat.Config{
		AppID: c.AppID, MchID: c.MchID, APIVersion: c.APIVersion, SignType: c.SignType, SerialNo: c.SerialNo,
		BaseURL: c.BaseURL, HTTPClient: opts.HTTPClient, Now: opts.Now, Logger: opts.Logger,
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: time.Duration(c.Timeout)}
	}
	readKey := func(name, path string) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("wechat.%s: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var err error
	if cfg.APIKey, err = readKey("api_key_file", c.APIKeyFile); err != nil {
		return nil, err
	}
	if cfg.APIv3Key, err = readKey("apiv3_key_file", c.APIv3KeyFile); err != nil {
		return nil, err
	}
	if c.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("wechat.client_cert_file: %w", err)
		}
		cfg.ClientCert = &cert
	}
	if c.APIVersion == 3 {
		keyPEM, err := os.ReadFile(c.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("wechat.private_key_file: %w", err)
		}
		if cfg.PrivateKey, err = pemkey.ParseRSAPrivateKey(keyPEM); err != nil {
			return nil, fmt.Errorf("wechat.private_key_file: %w", err)
		}
		if cfg.PlatformKeys, err = wechatPlatformKeys(c); err != nil {
			return nil, err
		}
	}
	return wechat.New(cfg)
}

// wechatPlatformKeys loads the keys WeChat Pay signs with, by the serial its
// Wechatpay-Serial header names: platform certificates by their serial number,
// the WeChat Pay public key by its id.
func wechatPlatformKeys(c *WeChatConfig) (map[string]*rsa.PublicKey, error) {
	keys := map[string]*rsa.PublicKey{}
	for _, path := range c.PlatformCertFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("wechat.platform_cert_files: %w", err)
		}
		block, _ := pem.Decode(b)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("wechat.platform_cert_files: %s is not a PEM certificate", path)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("wechat.platform_cert_files: %s: %w", path, err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("wechat.platform_cert_files: %s does not hold an RSA key", path)
		}
		keys[strings.ToUpper(cert.SerialNumber.Text(16))] = pub
	}
	if c.PublicKeyFile != "" {
		b, err := os.ReadFile(c.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("wechat.public_key_file: %w", err)
		}
		pub, err := pemkey.ParseRSAPublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("wechat.public_key_file: %w", err)
		}
		keys[c.PublicKeyID] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("wechat: no platform key configured")
	}
	return keys, nil
}
