package apple

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"cashier"
	"cashier/channel"
	"cashier/sandbox"
)

// Settings is the "apple" section of the configuration file.
type Settings struct {
	// Sandbox runs Apple against the built-in simulator, whose root
	// certificate is then pinned instead of Apple's.
	Sandbox    bool   `json:"sandbox"`
	BundleID   string `json:"bundle_id"`    // the app's bundle id
	AppAppleID int64  `json:"app_apple_id"` // the app's Apple ID (App Store Connect); checked on production notifications
	// AcceptSandbox accepts purchases made in Apple's sandbox (TestFlight,
	// App Review): they cost nothing, so only a test server should.
	AcceptSandbox bool `json:"accept_sandbox"`
	// TicketSecretFile keys the ticket's sign (HMAC-SHA256): required.
	TicketSecretFile string `json:"ticket_secret_file"`
	// SharedSecretFile is the app-specific shared secret of the legacy
	// verifyReceipt; empty: old clients' receipts are refused.
	SharedSecretFile        string `json:"shared_secret_file"`
	VerifyReceiptURL        string `json:"verify_receipt_url"`         // default DefaultVerifyReceiptURL
	SandboxVerifyReceiptURL string `json:"sandbox_verify_receipt_url"` // default DefaultSandboxVerifyReceiptURL
	// RootCertFile is the PEM root the signing chains must end at; empty:
	// Apple Root CA - G3, built in. Only tests set it.
	RootCertFile string `json:"root_cert_file"`
	// HonourLatePayments pays an order cashier closed when its App Store
	// purchase arrives after all (default true): Apple's money cannot be
	// given back from the server, so the buyer gets what they paid for.
	HonourLatePayments *bool            `json:"honour_late_payments"`
	Timeout            channel.Duration `json:"timeout"` // verifyReceipt calls; default 10s
}

// Defaults fills in Apple's hosts, the timeout and late payments.
func (s *Settings) Defaults() {
	if s.VerifyReceiptURL == "" {
		s.VerifyReceiptURL = DefaultVerifyReceiptURL
	}
	if s.SandboxVerifyReceiptURL == "" {
		s.SandboxVerifyReceiptURL = DefaultSandboxVerifyReceiptURL
	}
	if s.Timeout <= 0 {
		s.Timeout = channel.Duration(10 * time.Second)
	}
	if s.HonourLatePayments == nil {
		yes := true
		s.HonourLatePayments = &yes
	}
}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every missing setting.
func (s *Settings) Check() []error {
	if s.Sandbox {
		return nil
	}
	var errs []error
	if s.BundleID == "" || s.TicketSecretFile == "" {
		errs = append(errs, errors.New("apple: bundle_id and ticket_secret_file are required"))
	}
	if s.AppAppleID <= 0 {
		errs = append(errs, errors.New("apple: app_apple_id is required (the app's Apple ID in App Store Connect)"))
	}
	return errs
}

// open reads the secrets and the root, and opens the channel.
func open(set channel.Settings, env channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	ticket, err := channel.ReadSecret("apple.ticket_secret_file", s.TicketSecretFile)
	if err != nil {
		return nil, err
	}
	shared, err := channel.ReadSecret("apple.shared_secret_file", s.SharedSecretFile)
	if err != nil {
		return nil, err
	}
	root, err := readRoot(s.RootCertFile)
	if err != nil {
		return nil, err
	}
	return New(Config{BundleID: s.BundleID, AppAppleID: s.AppAppleID, AcceptSandbox: s.AcceptSandbox,
		TicketSecret: []byte(ticket), SharedSecret: shared, Root: root,
		VerifyReceiptURL: s.VerifyReceiptURL, SandboxVerifyReceiptURL: s.SandboxVerifyReceiptURL,
		HonourLatePayments: *s.HonourLatePayments, HTTPClient: env.Client(time.Duration(s.Timeout)),
		Now: env.Now, Logger: env.Logger})
}

// readRoot reads the PEM root at path, or Apple's when path is empty.
func readRoot(path string) (*x509.Certificate, error) {
	b := []byte(appleRootCAG3)
	if path != "" {
		var err error
		if b, err = channel.ReadFile("apple.root_cert_file", path); err != nil {
			return nil, err
		}
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("apple.root_cert_file: no PEM certificate in %s", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("apple.root_cert_file: %w", err)
	}
	return c, nil
}

// Spec describes the Apple channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/apple.Open).
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:          cashier.ChannelApple,
		TradeNoPrefix: TradeNoPrefix,
		NewSettings:   func() channel.Settings { return &Settings{} },
		Open:          open,
		Simulator:     simulator,
	}
}
