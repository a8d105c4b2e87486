// Package app wires cashier together from its configuration: the store, the
// channels (real or sandbox), the checkout service and the HTTP handler. The
// cashier command and the end-to-end tests both build cashier through it.
package app

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cashier"
	"cashier/api"
	"cashier/channel"
	"cashier/checkout"
	"cashier/jobs"
	"cashier/metrics"
	"cashier/sandbox"
	"cashier/sqlstore"
	"cashier/webhook"
)

// App is a wired cashier.
type App struct {
	Config   Config
	Store    *sqlstore.DB
	Checkout *checkout.Service
	Handler  http.Handler
	// Modes says how each channel runs.
	Modes map[string]Mode
	// Sandboxed lists the channels running against the built-in simulators.
	Sandboxed []string
	// Jobs is the background work queue.
	Jobs     *jobs.Queue
	webhooks *webhook.Sender
	// Simulators are the sandboxed channels' simulators, by channel name.
	Simulators map[string]sandbox.Simulator
	// AdminToken is the admin API's bearer token.
	AdminToken string
	// JWTSecret is the HS256 secret tokens are signed with, when one is used.
	JWTSecret []byte

	log            *slog.Logger
	stopBackground context.CancelFunc // the warnings and the simulators' ticks
	specs          []channel.Spec
}

// Options are what tests change; the zero value is production's.
type Options struct {
	Now        func() time.Time // default time.Now
	HTTPClient *http.Client     // for calls to channels; default one per channel with its timeout
	Logger     *slog.Logger
	// JobPollInterval is how often idle workers look for due jobs; default
	// River's. Tests make it short.
	JobPollInterval time.Duration
	// JobsUseNow makes River schedule by Now too (tests that move a fake
	// clock); production leaves River on the database's clock.
	JobsUseNow bool
	// Channels replaces cashier's list of channels (Channels()): tests of a
	// channel that is not on it.
	Channels []channel.Spec
}

// New opens the store, applies migrations, sets up channels and returns the
// wired App. Call Close when done.
func New(ctx context.Context, cfg Config, opts Options) (*App, error) {
	cfg.Defaults()
	if opts.Channels == nil {
		opts.Channels = Channels()
	}
	if err := cfg.check(opts.Channels); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	db, err := sqlstore.OpenWith(ctx, cfg.DB, cfg.Database.StoreOptions())
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Store: db, log: opts.Logger}
	if err := a.build(ctx, opts); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context, opts Options) error {
	cfg, log := a.Config, opts.Logger
	if err := a.Store.Migrate(ctx); err != nil {
		return err
	}
	auth, err := a.auth(log)
	if err != nil {
		return err
	}
	urls := publicURLs(cfg.PublicURL)
	channels, err := a.openChannels(opts)
	if err != nil {
		return err
	}

	qcfg := jobs.Config{Logger: log, PollInterval: opts.JobPollInterval, RescueAfter: time.Duration(cfg.JobRescueAfter),
		SweepInterval: time.Duration(cfg.JobSweepInterval)}
	if opts.JobPollInterval > 0 {
		qcfg.SweepInterval = min(qcfg.SweepInterval, opts.JobPollInterval)
	}
	if opts.JobsUseNow {
		qcfg.Now = opts.Now
	}
	if a.Jobs, err = jobs.New(ctx, a.Store, qcfg); err != nil {
		return err
	}
	registered := make([]checkout.Registration, len(a.specs))
	for i, s := range a.specs {
		registered[i] = checkout.Registration{Name: s.Name, TradeNoPrefix: s.TradeNoPrefix}
	}
	a.Checkout = checkout.New(checkout.Config{
		Store: a.Store, Channels: channels, Registered: registered, URLs: urls, Jobs: a.Jobs, OrderTTL: time.Duration(cfg.OrderTTL),
		PollDelay: time.Duration(cfg.PollDelay), ManualLateRefunds: cfg.LateRefunds == "manual",
		Now: opts.Now, Logger: log,
	})
	a.webhooks = &webhook.Sender{Store: a.Store, Client: &http.Client{Timeout: time.Duration(cfg.WebhookTimeout)},
		Now: opts.Now, Logger: log}
	proxies, err := cfg.proxies()
	if err != nil {
		return err
	}
	admin, err := a.admin(log)
	if err != nil {
		return err
	}
	stats := func(ctx context.Context) (st *cashier.Stats, err error) {
		err = a.Store.View(ctx, func(tx cashier.Tx) error {
			st, err = tx.Stats(ctx)
			return err
		})
		return st, err
	}
	links, err := a.checkoutLinks()
	if err != nil {
		return err
	}
	apiCfg := api.Config{Checkout: a.Checkout, Auth: auth, Admin: admin, Pinger: a.Store, Logger: log, ResultURL: cfg.ResultURL,
		CheckoutLinks: links, PublicURL: cfg.PublicURL,
		TrustedProxies: proxies, NotifyRejectsPerMinute: cfg.NotifyRejectsPerMinute, SandboxChannels: a.Sandboxed, SandboxBesideReal: a.SandboxBesideReal(),
		Metrics: metrics.New(stats, a.Store.PoolStats, len(a.Sandboxed) > 0, log)}
	if len(a.Simulators) > 0 {
		apiCfg.Sandbox = simulators(a.Simulators)
	}
	if a.Demo() {
		if err := seedDemo(ctx, a.Store, opts.Now()); err != nil {
			return err
		}
		apiCfg.DemoUser = DemoUser
	}
	a.Handler = api.NewServer(apiCfg)
	return nil
}

// openChannels opens every channel as its mode says: with its real
// credentials, against its simulator, or not at all.
func (a *App) openChannels(opts Options) ([]cashier.Channel, error) {
	a.specs = opts.Channels
	settings, errs := a.Config.settings(a.specs, nil)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var err error
	if a.Modes, err = modes(a.specs, settings, a.Config.Sandbox); err != nil {
		return nil, err
	}
	env := channel.Env{Logger: opts.Logger, HTTPClient: opts.HTTPClient, Now: opts.Now}
	simEnv := sandbox.Env{Dir: a.Config.SandboxDir(), PublicURL: a.Config.PublicURL, Credential: a.credential,
		HTTPClient: opts.HTTPClient, Logger: opts.Logger, Now: opts.Now}
	a.Simulators = map[string]sandbox.Simulator{}
	var channels []cashier.Channel
	for _, s := range a.specs {
		var ch cashier.Channel
		switch a.Modes[s.Name] {
		case ModeReal:
			ch, err = s.Open(settings[s.Name], env)
		case ModeSandbox:
			ch, a.Simulators[s.Name], err = s.OpenSandbox(a.Config.Channels[s.Name], env, simEnv)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		channels = append(channels, ch)
	}
	a.Sandboxed = a.ChannelsIn(ModeSandbox)
	return channels, nil
}

// ChannelsIn lists, in the list's order, the channels that run in mode m.
func (a *App) ChannelsIn(m Mode) []string {
	var out []string
	for _, s := range a.specs {
		if a.Modes[s.Name] == m {
			out = append(out, s.Name)
		}
	}
	return out
}

// Demo reports whether this is the zero-configuration demo: no channel has
// real credentials, so every one runs against its simulator.
func (a *App) Demo() bool { return !anyIn(a.Modes, ModeReal) }

// SandboxBesideReal reports whether simulators run beside real channels
// (allowed by the "sandbox" switch): anyone can pay the sandboxed channels'
// orders.
func (a *App) SandboxBesideReal() bool { return len(a.Sandboxed) > 0 && !a.Demo() }

// DevToken reports whether a development token may be printed: the JWT
// secret is one cashier generated, and the server is the demo.
func (a *App) DevToken() bool {
	return a.Demo() && a.JWTSecret != nil && a.Config.JWT.SecretFile == ""
}

// credential returns the credential handed out for an attempt: the simulators
// use it to pay by out_trade_no, as a buyer's app would hand it to the channel.
func (a *App) credential(ctx context.Context, outTradeNo string) (json.RawMessage, error) {
	p, err := a.Checkout.PaymentByOutTradeNo(ctx, outTradeNo)
	if err != nil {
		return nil, err
	}
	return p.Credential, nil
}

// auth sets up bearer-token verification.
func (a *App) auth(log *slog.Logger) (*api.Auth, error) {
	cfg := a.Config
	if cfg.JWT.PublicKeyFile != "" {
		pub, err := readPublicKey(cfg.JWT.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("jwt.public_key_file: %w", err)
		}
		return api.NewAuth(nil, pub, log)
	}
	secret, err := JWTSecret(cfg, true)
	if err != nil {
		return nil, err
	}
	a.JWTSecret = secret
	return api.NewAuth(secret, nil, log)
}

// AdminTokenPath is where the admin token is read from.
func (c *Config) AdminTokenPath() string {
	if c.AdminTokenFile != "" {
		return c.AdminTokenFile
	}
	return filepath.Join(c.SandboxDir(), "admin_token")
}

// admin sets up the admin API's token check, generating the token on first
// use when none is configured.
func (a *App) admin(log *slog.Logger) (*api.Admin, error) {
	var token []byte
	var err error
	if a.Config.AdminTokenFile != "" {
		token, err = os.ReadFile(a.Config.AdminTokenFile)
	} else {
		token, err = sandbox.Secret(a.Config.AdminTokenPath(), 24)
	}
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	a.AdminToken = strings.TrimSpace(string(token))
	return api.NewAdmin(a.AdminToken, log)
}

// JWTSecret returns the configured HS256 secret, or the development one in the
// sandbox directory, generated on first use when create is set. Without
// create, a missing development secret is an error that says where it was
// looked for: commands other than serve never make a data directory of their
// own.
func JWTSecret(cfg Config, create bool) ([]byte, error) {
	cfg.Defaults()
	if cfg.JWT.SecretFile != "" {
		b, err := os.ReadFile(cfg.JWT.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("jwt.secret_file: %w", err)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	}
	path := filepath.Join(cfg.SandboxDir(), "jwt_secret.txt")
	if !create {
		if err := RequireData(cfg); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no JWT secret at %s (start `cashier serve` first, or configure jwt.secret_file)", path)
		} else if err != nil {
			return nil, fmt.Errorf("read the JWT secret: %w", err)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	}
	return sandbox.Secret(path, 32)
}

// RequireData checks that the data directory exists, for the commands that
// read what serve wrote there.
func RequireData(cfg Config) error {
	if _, err := os.Stat(cfg.Data); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no data directory at %s (start `cashier serve` first or pass --data)", cfg.Data)
	} else if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}

// readPublicKey reads a PEM public key (PKIX) or certificate of any algorithm.
func readPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not a PEM file")
	}
	if block.Type == "CERTIFICATE" {
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}

// Start runs the background jobs until Stop.
func (a *App) Start(ctx context.Context) error {
	co, wh := a.Checkout, a.webhooks
	retention := time.Duration(a.Config.RejectedRetention)
	err := a.Jobs.Start(ctx, jobs.Handlers{
		ExpireOrder:   co.ExpireOrder,
		PollPayment:   func(ctx context.Context, id int64, _ int) (time.Duration, error) { return co.PollPayment(ctx, id) },
		ProcessRefund: co.ProcessRefund,
		DeliverEvent:  wh.Deliver,
		Purge:         co.PurgeIdempotencyKeys,
		PurgeRejected: func(ctx context.Context) error { return co.PurgeRejectedMessages(ctx, retention) },
	})
	if err != nil {
		return err
	}
	ctx, a.stopBackground = context.WithCancel(context.WithoutCancel(ctx))
	if a.SandboxBesideReal() {
		go a.warnSandbox(ctx, time.Hour)
	}
	go a.tickSimulators(ctx, 5*time.Second)
	return nil
}

// tickSimulators lets the simulators that act on their own (resends) act.
func (a *App) tickSimulators(ctx context.Context, interval time.Duration) {
	var tickers []sandbox.Ticker
	for _, sim := range a.Simulators {
		if t, ok := sim.(sandbox.Ticker); ok {
			tickers = append(tickers, t)
		}
	}
	if len(tickers) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, tk := range tickers {
				tk.Tick(ctx)
			}
		}
	}
}

// warnSandbox says, at start and every interval, that simulators run beside
// real channels: whoever reads the log must not miss it.
func (a *App) warnSandbox(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.log.WarnContext(ctx, "SANDBOX BESIDE REAL CHANNELS: anyone can mark orders of these channels paid through /sandbox/",
			"sandboxed", a.Sandboxed, "real", a.ChannelsIn(ModeReal), "switch", SandboxBesideReal)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop lets the jobs under way finish, and stops working jobs.
func (a *App) Stop(ctx context.Context) error {
	if a.stopBackground != nil {
		a.stopBackground()
	}
	return a.Jobs.Stop(ctx)
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

// urls are cashier's public endpoints for the channels.
type urls struct{ base string }

func publicURLs(base string) urls { return urls{base: base} }

func (u urls) NotifyURL(channel string) string { return u.base + "/api/v1/order/notify/" + channel }

func (u urls) ReturnURL(channel string) string { return u.base + "/api/v1/order/return/" + channel }

// checkoutLinks sets up the checkout page's links: their key (configured,
// or generated on first use) and the origins a buyer may be sent back to.
func (a *App) checkoutLinks() (api.CheckoutLinks, error) {
	cfg := a.Config
	var key []byte
	var err error
	if cfg.CheckoutSecretFile != "" {
		key, err = os.ReadFile(cfg.CheckoutSecretFile)
		key = []byte(strings.TrimSpace(string(key)))
		if err == nil && len(key) < 32 {
			err = errors.New("shorter than 32 bytes")
		}
	} else {
		key, err = sandbox.Secret(filepath.Join(cfg.Data, "checkout_secret.txt"), 32)
	}
	if err != nil {
		return api.CheckoutLinks{}, fmt.Errorf("checkout_secret_file: %w", err)
	}
	origins := []string{originOf(cfg.PublicURL)}
	for _, o := range cfg.CheckoutReturnOrigins {
		origins = append(origins, originOf(o))
	}
	return api.CheckoutLinks{Key: key, ReturnOrigins: origins}, nil
}

// originOf is scheme://host[:port] of a URL.
func originOf(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	return u.Scheme + "://" + u.Host
}
