package wechat

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"cashier"
	"cashier/channel"
	"cashier/pemkey"
	"cashier/sandbox"
)

// Settings is the "wechat" section of the configuration file. APIVersion 2
// needs the API key; 3 needs the APIv3 key, the merchant's API private key
// and certificate serial, and the platform certificates or the WeChat Pay
// public key.
type Settings struct {
	// Sandbox runs WeChat Pay against the built-in simulator with generated
	// keys, speaking APIVersion; the credential fields are then ignored.
	Sandbox    bool   `json:"sandbox"`
	AppID      string `json:"app_id"`
	MchID      string `json:"mch_id"`
	APIVersion int    `json:"api_version"`  // 2 (default) or 3
	APIKeyFile string `json:"api_key_file"` // v2
	// ClientCertFile and ClientKeyFile are the merchant's API certificate
	// (apiclient_cert.pem, apiclient_key.pem): v2 refunds need them.
	ClientCertFile    string           `json:"client_cert_file"`
	ClientKeyFile     string           `json:"client_key_file"`
	SignType          string           `json:"sign_type"`      // v2: MD5 (default) or HMAC-SHA256
	APIv3KeyFile      string           `json:"apiv3_key_file"` // v3
	PrivateKeyFile    string           `json:"private_key_file"`
	SerialNo          string           `json:"serial_no"`
	PlatformCertFiles []string         `json:"platform_cert_files"` // v3: wechatpay_*.pem
	PublicKeyFile     string           `json:"public_key_file"`     // v3: WeChat Pay public key…
	PublicKeyID       string           `json:"public_key_id"`       // …and its id, PUB_KEY_ID_…
	BaseURL           string           `json:"base_url"`            // default DefaultBaseURL
	Timeout           channel.Duration `json:"timeout"`             // default 10s
}

// Defaults fills in the version, sign type, host and timeout.
func (s *Settings) Defaults() {
	if s.APIVersion == 0 {
		s.APIVersion = 2
	}
	if s.SignType == "" {
		s.SignType = SignTypeMD5
	}
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	if s.Timeout <= 0 {
		s.Timeout = channel.Duration(10 * time.Second)
	}
}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every problem at once.
func (s *Settings) Check() []error {
	var errs []error
	if s.APIVersion != 2 && s.APIVersion != 3 {
		errs = append(errs, fmt.Errorf("wechat.api_version %d: use 2 or 3", s.APIVersion))
	}
	if s.Sandbox {
		return errs
	}
	if s.AppID == "" || s.MchID == "" {
		errs = append(errs, errors.New("wechat: app_id and mch_id are required"))
	}
	switch s.APIVersion {
	case 2:
		if s.APIKeyFile == "" {
			errs = append(errs, errors.New("wechat: api_version 2 needs api_key_file"))
		}
		if (s.ClientCertFile == "") != (s.ClientKeyFile == "") {
			errs = append(errs, errors.New("wechat: set both client_cert_file and client_key_file, or neither"))
		}
		if s.SignType != SignTypeMD5 && s.SignType != SignTypeHMACSHA256 {
			errs = append(errs, fmt.Errorf("wechat.sign_type %q: use MD5 or HMAC-SHA256", s.SignType))
		}
	case 3:
		if s.APIv3KeyFile == "" || s.PrivateKeyFile == "" || s.SerialNo == "" {
			errs = append(errs, errors.New("wechat: api_version 3 needs apiv3_key_file, private_key_file and serial_no"))
		}
		if len(s.PlatformCertFiles) == 0 && (s.PublicKeyFile == "" || s.PublicKeyID == "") {
			errs = append(errs, errors.New("wechat: api_version 3 needs platform_cert_files, or public_key_file with public_key_id"))
		}
	}
	return errs
}

// open reads the key files of s and opens the channel.
func open(set channel.Settings, env channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	cfg := Config{
		AppID: s.AppID, MchID: s.MchID, APIVersion: s.APIVersion, SignType: s.SignType, SerialNo: s.SerialNo,
		BaseURL: s.BaseURL, HTTPClient: env.Client(time.Duration(s.Timeout)), Now: env.Now, Logger: env.Logger,
	}
	var err error
	if cfg.APIKey, err = channel.ReadSecret("wechat.api_key_file", s.APIKeyFile); err != nil {
		return nil, err
	}
	if cfg.APIv3Key, err = channel.ReadSecret("wechat.apiv3_key_file", s.APIv3KeyFile); err != nil {
		return nil, err
	}
	if s.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.ClientCertFile, s.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("wechat.client_cert_file: %w", err)
		}
		cfg.ClientCert = &cert
	}
	if s.APIVersion == 3 {
		if cfg.PrivateKey, err = channel.ReadRSAPrivateKey("wechat.private_key_file", s.PrivateKeyFile); err != nil {
			return nil, err
		}
		if cfg.PlatformKeys, err = platformKeys(s); err != nil {
			return nil, err
		}
	}
	return New(cfg)
}

// platformKeys loads the keys WeChat Pay signs with, by the serial its
// Wechatpay-Serial header names: platform certificates by their serial number,
// the WeChat Pay public key by its id.
func platformKeys(s *Settings) (map[string]*rsa.PublicKey, error) {
	keys := map[string]*rsa.PublicKey{}
	for _, path := range s.PlatformCertFiles {
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
	if s.PublicKeyFile != "" {
		b, err := os.ReadFile(s.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("wechat.public_key_file: %w", err)
		}
		pub, err := pemkey.ParseRSAPublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("wechat.public_key_file: %w", err)
		}
		keys[s.PublicKeyID] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("wechat: no platform key configured")
	}
	return keys, nil
}

// Spec describes the WeChat Pay channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/wechat.Open). The
// conformance suite runs the simulator in both API versions.
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:            cashier.ChannelWechat,
		TradeNoPrefix:   "WX",
		NewSettings:     func() channel.Settings { return &Settings{} },
		Open:            open,
		Simulator:       simulator,
		SandboxVariants: []string{`{"sandbox": true, "api_version": 2}`, `{"sandbox": true, "api_version": 3}`},
	}
}
