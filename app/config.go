package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cashier/api"
	"cashier/channel"
	"cashier/jobs"
	"cashier/sqlstore"
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
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) on this
	// loopback address ("127.0.0.1:6060"), to find where time goes under
	// load; unset: off.
	DebugAddr string `json:"debug_addr"`
	LogFormat string `json:"log_format"` // "text" (default) or "json"
	LogLevel  string `json:"log_level"`  // "debug", "info" (default), "warn", "error"

	// AdminTokenFile holds the admin API's bearer token (at least 32
	// characters). Unset: one is generated into Data/sandbox/admin_token.
	AdminTokenFile string `json:"admin_token_file"`

	// JobRescueAfter is how long a background job may stay running before
	// it is taken to belong to a process that died, and is run again
	// ("5m"). It must be longer than the longest job's timeout.
	JobRescueAfter Duration `json:"job_rescue_after"`
	// JobSweepInterval is how often each instance looks for orders whose
	// expiry passed and attempts due to be asked about, and schedules their
	// jobs ("1s"): an order closes at most about this long after expiry.
	JobSweepInterval Duration `json:"job_sweep_interval"`
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

	JWT JWTConfig `json:"jwt"`

	// Database tunes the connections to the database.
	Database DatabaseConfig `json:"database"`

	// CheckoutReturnOrigins are the origins (scheme://host[:port]) the
	// checkout page may send a buyer back to (return_url); public_url's is
	// always one.
	CheckoutReturnOrigins []string `json:"checkout_return_origins"`
	// CheckoutSecretFile keys the checkout page's links; unset: one is
	// generated into Data/checkout_secret.txt.
	CheckoutSecretFile string `json:"checkout_secret_file"`

	// Channels are the channels' sections of the file ("alipay": {…}), by
	// channel name, as written: each channel decodes and checks its own
	// (channel.Spec.DecodeSettings). A channel without a section is
	// sandboxed when no channel has credentials, and disabled otherwise.
	Channels map[string]json.RawMessage `json:"-"`
}

// JWTConfig says how buyers' bearer tokens are verified. With nothing set, an
// HS256 secret is generated into Data/sandbox/jwt_secret.txt.
type JWTConfig struct {
	SecretFile    string `json:"secret_file"`     // HS256 secret, at least 32 bytes
	PublicKeyFile string `json:"public_key_file"` // RS256/ES256 public key (PEM)
}

// DatabaseConfig tunes the connections to the database; every field has a
// default that fits a small machine.
type DatabaseConfig struct {
	// MaxConns bounds this instance's connections: 20 on PostgreSQL (or
	// pool_max_conns in the URL), 8 on SQLite.
	MaxConns int `json:"max_conns"`
	// StatementTimeout stops a PostgreSQL statement that runs longer
	// ("30s"; "-1s": none). Migrations run without it.
	StatementTimeout Duration `json:"statement_timeout"`
	// SQLiteBusyTimeout bounds how long a SQLite write waits for a lock
	// another process holds ("10s").
	SQLiteBusyTimeout Duration `json:"sqlite_busy_timeout"`
	// SQLiteSynchronous is "full" (default: a commit is on disk before it is
	// acknowledged) or "normal" (a commit survives cashier crashing but not
	// the machine losing power; faster writes).
	SQLiteSynchronous string `json:"sqlite_synchronous"`
}

// StoreOptions are the store's connection settings from c.
func (c DatabaseConfig) StoreOptions() sqlstore.Options {
	return sqlstore.Options{MaxConns: c.MaxConns, StatementTimeout: time.Duration(c.StatementTimeout),
		BusyTimeout: time.Duration(c.SQLiteBusyTimeout), Synchronous: c.SQLiteSynchronous}
}

// Duration is a time.Duration written as "30m" in JSON.
type Duration = channel.Duration

// LoadConfig reads a JSON configuration file; unknown fields are errors, so a
// typo is not silently a default. The sections named after channels go to
// Channels.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := cfg.decode(b, Channels()); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// decode reads a configuration file's JSON: the channels' sections into
// Channels, everything else into c, refusing unknown keys.
func (c *Config) decode(b []byte, specs []channel.Spec) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	for _, s := range specs {
		if raw, ok := keys[s.Name]; ok {
			if c.Channels == nil {
				c.Channels = map[string]json.RawMessage{}
			}
			c.Channels[s.Name] = raw
			delete(keys, s.Name)
		}
	}
	rest, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	return dec.Decode(c)
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
	if c.JobSweepInterval <= 0 {
		c.JobSweepInterval = Duration(jobs.DefaultSweepInterval)
	}
	if c.JobRescueAfter <= 0 {
		c.JobRescueAfter = Duration(jobs.DefaultRescueAfter)
	}
	if c.RejectedRetention <= 0 {
		c.RejectedRetention = Duration(30 * 24 * time.Hour)
	}
	if c.NotifyRejectsPerMinute == 0 {
		c.NotifyRejectsPerMinute = api.DefaultNotifyRejectsPerMinute
	}
}

// Check reports what is wrong with a configuration, all at once, for
// cashier's channels.
func (c *Config) Check() error { return c.check(Channels()) }

func (c *Config) check(specs []channel.Spec) error {
	var errs []error
	if time.Duration(c.OrderTTL) < time.Minute || time.Duration(c.OrderTTL) > 7*24*time.Hour {
		errs = append(errs, errors.New("order_ttl must be between 1m and 168h"))
	}
	if c.JWT.SecretFile != "" && c.JWT.PublicKeyFile != "" {
		errs = append(errs, errors.New("jwt: set secret_file or public_key_file, not both"))
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
	if d := time.Duration(c.JobSweepInterval); d < 100*time.Millisecond || d > time.Minute {
		errs = append(errs, fmt.Errorf("job_sweep_interval %v must be between 100ms and 1m", d))
	}
	if err := checkLoopback(c.DebugAddr); err != nil {
		errs = append(errs, fmt.Errorf("debug_addr: %w", err))
	}
	if c.Database.MaxConns < 0 || c.Database.MaxConns > 1000 {
		errs = append(errs, fmt.Errorf("database.max_conns %d must be between 1 and 1000 (0: the default)", c.Database.MaxConns))
	}
	if s := c.Database.SQLiteSynchronous; s != "" && s != "full" && s != "normal" {
		errs = append(errs, fmt.Errorf("database.sqlite_synchronous %q: use full or normal", s))
	}
	if time.Duration(c.RejectedRetention) < time.Hour {
		errs = append(errs, errors.New("rejected_retention must be at least 1h"))
	}
	if c.NotifyRejectsPerMinute < 1 {
		errs = append(errs, errors.New("notify_rejects_per_minute must be at least 1"))
	}
	if err := channel.Check(specs); err != nil {
		errs = append(errs, err)
	}
	settings, errs := c.settings(specs, errs)
	if err := checkSandboxSwitch(c.Sandbox); err != nil {
		errs = append(errs, err)
	} else if _, err := modes(specs, settings, c.Sandbox); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// settings decodes, completes and checks the channels' sections, adding what
// is wrong to errs; a channel without a section has none.
func (c *Config) settings(specs []channel.Spec, errs []error) (map[string]channel.Settings, []error) {
	out := map[string]channel.Settings{}
	for name := range c.Channels {
		if !slices.ContainsFunc(specs, func(s channel.Spec) bool { return s.Name == name }) {
			errs = append(errs, fmt.Errorf("%q is not a channel of this build", name))
		}
	}
	for _, s := range specs {
		raw, ok := c.Channels[s.Name]
		if !ok {
			continue
		}
		set, err := s.DecodeSettings(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Defaults()
		errs = append(errs, set.Check()...)
		out[s.Name] = set
	}
	return out, errs
}

// Modes says how each of cashier's channels runs: see channelModes.
func (c *Config) Modes() (map[string]Mode, error) {
	specs := Channels()
	settings, errs := c.settings(specs, nil)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return modes(specs, settings, c.Sandbox)
}

// modes applies channelModes to the channels' settings.
func modes(specs []channel.Spec, settings map[string]channel.Settings, sandbox string) (map[string]Mode, error) {
	list := make([]channelSetting, len(specs))
	for i, s := range specs {
		set, ok := settings[s.Name]
		list[i] = channelSetting{name: s.Name, configured: ok, sandbox: ok && set.Sandboxed()}
	}
	return channelModes(list, sandbox == SandboxBesideReal)
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

// checkLoopback refuses an address other machines could reach: the
// profiler shows the program's insides.
func checkLoopback(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (127.0.0.1:6060, [::1]:6060, localhost:6060)", addr)
	}
	return nil
}
