package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cashier"
	"cashier/jobs"
)

// Config is cashier's configuration. Every field has a sensible default: the
// zero Config runs in sandbox mode on SQLite under ./cashier-data.
type Config struct {
	Addr      string `json:"addr"`       // listen address; default 127.0.0.1:8080
	Data      string `json:"data"`       // data directory; default ./cashier-data
	DB        string `json:"db"`         // postgres://… URL; default SQLite at Data/cashier.db
	PublicURL string `json:"public_url"` // how channels and browsers reach cashier; default http://Addr
	// OrderTTL is how long an unpaid order stays payable ("30m").
	OrderTTL Duration `json:"order_ttl"`
	// PollDelay is how long an attempt waits for its notification before its
	// channel is asked ("2m"); later questions thin out.
	PollDelay Duration `json:"poll_delay"`
	// LateRefunds says what happens to money that arrives for an order that
	// no longer needs it: "auto" (default) refunds it at once, "manual" leaves
	// it marked needs_refund for an operator.
	LateRefunds string `json:"late_refunds"`
	// WebhookTimeout bounds one webhook delivery ("10s").
	WebhookTimeout Duration `json:"webhook_timeout"`
	// ResultURL is where a browser goes after paying on a channel's page;
	// "{order_id}" is replaced. Default: cashier's own result page.
	ResultURL string `json:"result_url"`
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For names the buyer's address; nobody else's is believed.
	TrustedProxies []string `json:"trusted_proxies"`
	LogFormat      string   `json:"log_format"` // "text" (default) or "json"
	LogLevel       string   `json:"log_level"`  // "debug", "info" (default), "warn", "error"

	// AdminTokenFile holds the admin API's bearer token (at least 32
	// characters). Unset: one is generated into Data/sandbox/admin_token.
	AdminTokenFile string `json:"admin_token_file"`

	// JobRescueAfter is how long a background job may stay running before
	// it is taken to belong to a process that died, and is run again
	// ("5m"). It must be longer than the longest job's timeout.
	JobRescueAfter Duration `json:"job_rescue_after"`
	// RejectedRetention is how long notifications that failed verification
	// (forged or malformed) are kept ("720h"); genuine ones are kept.
	RejectedRetention Duration `json:"rejected_retention"`
	// NotifyRejectsPerMinute bounds, per remote address, how many
	// notifications that fail verification are recorded (60); a message
	// that verifies is never held back.
	NotifyRejectsPerMinute int `json:"notify_rejects_per_minute"`

	// Sandbox, set to SandboxBesideReal, lets a channel marked
	// "sandbox": true run beside channels with real credentials.
	Sandbox string `json:"sandbox"`

	JWT    JWTConfig     `json:"jwt"`
	Alipay *AlipayConfig `json:"alipay"` // nil: sandboxed when no channel has credentials, else disabled
	WeChat *WeChatConfig `json:"wechat"` // nil: sandboxed (API v2) when no channel has credentials, else disabled
}

// JWTConfig says how buyers' bearer tokens are verified. With nothing set, an
// HS256 secret is generated into Data/sandbox/jwt_secret.txt.
type JWTConfig struct {
	SecretFile    string `json:"secret_file"`     // HS256 secret, at least 32 bytes
	PublicKeyFile string `json:"public_key_file"` // RS256/ES256 public key (PEM)
}

// AlipayConfig holds a merchant's Alipay credentials, as files the way the
// Alipay console hands them out.
type AlipayConfig struct {
	// Sandbox runs Alipay against the built-in simulator with generated
	// keys; the credential fields are then ignored.
	Sandbox              bool     `json:"sandbox"`
	AppID                string   `json:"app_id"`
	PrivateKeyFile       string   `json:"private_key_file"`        // app private key: PEM, or base64 PKCS#1/PKCS#8
	AlipayPublicKeyFile  string   `json:"alipay_public_key_file"`  // public-key mode
	AppCertFile          string   `json:"app_cert_file"`           // certificate mode: appCertPublicKey.crt
	AlipayRootCertFile   string   `json:"alipay_root_cert_file"`   // certificate mode: alipayRootCert.crt
	AlipayPublicCertFile string   `json:"alipay_public_cert_file"` // certificate mode: alipayCertPublicKey_RSA2.crt
	SellerID             string   `json:"seller_id"`
	GatewayURL           string   `json:"gateway_url"` // default https://openapi.alipay.com/gateway.do
	Timeout              Duration `json:"timeout"`     // server-to-server calls; default 10s
}

// WeChatConfig holds a merchant's WeChat Pay credentials. APIVersion 2 needs
// the API key; 3 needs the APIv3 key, the merchant's API private key and
// certificate serial, and the platform certificates or the WeChat Pay public key.
type WeChatConfig struct {
	// Sandbox runs WeChat Pay against the built-in simulator with generated
	// keys, speaking APIVersion; the credential fields are then ignored.
	Sandbox    bool   `json:"sandbox"`
	AppID      string `json:"app_id"`
	MchID      string `json:"mch_id"`
	APIVersion int    `json:"api_version"`  // 2 (default) or 3
	APIKeyFile string `json:"api_key_file"` // v2
	// ClientCertFile and ClientKeyFile are the merchant's API certificate
	// (apiclient_cert.pem, apiclient_key.pem): v2 refunds need them.
	ClientCertFile    string   `json:"client_cert_file"`
	ClientKeyFile     string   `json:"client_key_file"`
	SignType          string   `json:"sign_type"`      // v2: MD5 (default) or HMAC-SHA256
	APIv3KeyFile      string   `json:"apiv3_key_file"` // v3
	PrivateKeyFile    string   `json:"private_key_file"`
	SerialNo          string   `json:"serial_no"`
	PlatformCertFiles []string `json:"platform_cert_files"` // v3: wechatpay_*.pem
	PublicKeyFile     string   `json:"public_key_file"`     // v3: WeChat Pay public key…
	PublicKeyID       string   `json:"public_key_id"`       // …and its id, PUB_KEY_ID_…
	BaseURL           string   `json:"base_url"`            // default https://api.mch.weixin.qq.com
	Timeout           Duration `json:"timeout"`             // default 10s
}

// Duration is a time.Duration written as "30m" in JSON.
type Duration time.Duration

// UnmarshalJSON reads "30m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("duration must be a string like \"30m\" or seconds")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as "30m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// LoadConfig reads a JSON configuration file; unknown fields are errors, so a
// typo is not silently a default.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	f, err := os.Open(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Defaults fills in what is unset and resolves relative files against the
// data directory's parent (the working directory).
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.Data == "" {
		c.Data = "cashier-data"
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.Data, "cashier.db")
	}
	if c.PublicURL == "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			host, port = "127.0.0.1", "8080"
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.OrderTTL <= 0 {
		c.OrderTTL = Duration(30 * time.Minute)
	}
	if c.PollDelay <= 0 {
		c.PollDelay = Duration(2 * time.Minute)
	}
	if c.LateRefunds == "" {
		c.LateRefunds = "auto"
	}
	if c.WebhookTimeout <= 0 {
		c.WebhookTimeout = Duration(10 * time.Second)
	}
	if c.JobRescueAfter <= 0 {
		c.JobRescueAfter = Duration(DefaultJobRescueAfter)
	}
	if c.RejectedRetention <= 0 {
		c.RejectedRetention = Duration(30 * 24 * time.Hour)
	}
	if c.NotifyRejectsPerMinute == 0 {
		c.NotifyRejectsPerMinute = 60
	}
	if w := c.WeChat; w != nil {
		if w.APIVersion == 0 {
			w.APIVersion = 2
		}
		if w.SignType == "" {
			w.SignType = "MD5"
		}
		if w.BaseURL == "" {
			w.BaseURL = "https://api.mch.weixin.qq.com"
		}
		if w.Timeout <= 0 {
			w.Timeout = Duration(10 * time.Second)
		}
	}
	if a := c.Alipay; a != nil {
		if a.GatewayURL == "" {
			a.GatewayURL = "https://openapi.alipay.com/gateway.do"
		}
		if a.Timeout <= 0 {
			a.Timeout = Duration(10 * time.Second)
		}
	}
}

// Check reports what is wrong with a configuration, all at once.
func (c *Config) Check() error {
	var errs []error
	if time.Duration(c.OrderTTL) < time.Minute || time.Duration(c.OrderTTL) > 7*24*time.Hour {
		errs = append(errs, errors.New("order_ttl must be between 1m and 168h"))
	}
	if c.JWT.SecretFile != "" && c.JWT.PublicKeyFile != "" {
		errs = append(errs, errors.New("jwt: set secret_file or public_key_file, not both"))
	}
	if a := c.Alipay; a != nil && !a.Sandbox {
		if a.AppID == "" {
			errs = append(errs, errors.New("alipay.app_id is required"))
		}
		if a.PrivateKeyFile == "" {
			errs = append(errs, errors.New("alipay.private_key_file is required"))
		}
		certMode := a.AppCertFile != "" || a.AlipayRootCertFile != "" || a.AlipayPublicCertFile != ""
		if !certMode && a.AlipayPublicKeyFile == "" {
			errs = append(errs, errors.New("alipay: set alipay_public_key_file, or the three certificate files"))
		}
	}
	if c.LateRefunds != "auto" && c.LateRefunds != "manual" {
		errs = append(errs, fmt.Errorf("late_refunds %q: use auto or manual", c.LateRefunds))
	}
	if time.Duration(c.WebhookTimeout) > 25*time.Second {
		errs = append(errs, errors.New("webhook_timeout must be at most 25s (a delivery job is stopped after 30s)"))
	}
	if time.Duration(c.PollDelay) < 10*time.Second {
		errs = append(errs, errors.New("poll_delay must be at least 10s"))
	}
	if w := c.WeChat; w != nil {
		errs = append(errs, w.check()...)
	}
	if _, err := c.proxies(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format %q: use text or json", c.LogFormat))
	}
	if d := time.Duration(c.JobRescueAfter); d < jobs.LongestTimeout+time.Minute {
		errs = append(errs, fmt.Errorf("job_rescue_after %v must be at least %v (the longest job's timeout and a minute)",
			d, jobs.LongestTimeout+time.Minute))
	}
	if time.Duration(c.RejectedRetention) < time.Hour {
		errs = append(errs, errors.New("rejected_retention must be at least 1h"))
	}
	if c.NotifyRejectsPerMinute < 1 {
		errs = append(errs, errors.New("notify_rejects_per_minute must be at least 1"))
	}
	if err := checkSandboxSwitch(c.Sandbox); err != nil {
		errs = append(errs, err)
	} else if _, err := c.Modes(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// DefaultJobRescueAfter is how long a job may run before it is taken to be
// stuck in a process that died.
const DefaultJobRescueAfter = 5 * time.Minute

// channelNames lists the channels built so far, in order.
var channelNames = []string{cashier.ChannelAlipay, cashier.ChannelWechat}

// Modes says how each channel runs: see channelModes.
func (c *Config) Modes() (map[string]Mode, error) {
	return channelModes([]channelSetting{
		{name: cashier.ChannelAlipay, configured: c.Alipay != nil, sandbox: c.Alipay != nil && c.Alipay.Sandbox},
		{name: cashier.ChannelWechat, configured: c.WeChat != nil, sandbox: c.WeChat != nil && c.WeChat.Sandbox},
	}, c.Sandbox == SandboxBesideReal)
}

// SandboxDir is where sandbox key material and secrets live.
func (c *Config) SandboxDir() string { return filepath.Join(c.Data, "sandbox") }

// proxies parses TrustedProxies.
func (c *Config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is neither an address nor a CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (w *WeChatConfig) check() []error {
	var errs []error
	if w.APIVersion != 2 && w.APIVersion != 3 {
		errs = append(errs, fmt.Errorf("wechat.api_version %d: use 2 or 3", w.APIVersion))
	}
	if w.Sandbox {
		return errs
	}
	if w.AppID == "" || w.MchID == "" {
		errs = append(errs, errors.New("wechat: app_id and mch_id are required"))
	}
	switch w.APIVersion {
	case 2:
		if w.APIKeyFile == "" {
			errs = append(errs, errors.New("wechat: api_version 2 needs api_key_file"))
		}
		if (w.ClientCertFile == "") != (w.ClientKeyFile == "") {
			errs = append(errs, errors.New("wechat: set both client_cert_file and client_key_file, or neither"))
		}
		if w.SignType != "MD5" && w.SignType != "HMAC-SHA256" {
			errs = append(errs, fmt.Errorf("wechat.sign_type %q: use MD5 or HMAC-SHA256", w.SignType))
		}
	case 3:
		if w.APIv3KeyFile == "" || w.PrivateKeyFile == "" || w.SerialNo == "" {
			errs = append(errs, errors.New("wechat: api_version 3 needs apiv3_key_file, private_key_file and serial_no"))
		}
		if len(w.PlatformCertFiles) == 0 && (w.PublicKeyFile == "" || w.PublicKeyID == "") {
			errs = append(errs, errors.New("wechat: api_version 3 needs platform_cert_files, or public_key_file with public_key_id"))
		}
	}
	return errs
}
