package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"cashier/channel/alipay"
	"cashier/pemkey"
	sim "cashier/sandbox"
)

// SandboxAlipayAppID is the app id of the simulated Alipay merchant.
const SandboxAlipayAppID = "9021000000000001"

// sandbox runs the far side of the channels that have no real credentials:
// key pairs in the data directory, and the simulators under /sandbox/.
type sandbox struct {
	dir       string
	publicURL string
	log       *slog.Logger
	client    *http.Client
	now       func() time.Time
	lookup    func(ctx context.Context, outTradeNo string) ([]byte, error)

	sims []interface{ Register(*http.ServeMux) }
}

// Register mounts every simulator.
func (s *sandbox) Register(mux *http.ServeMux) {
	for _, sim := range s.sims {
		sim.Register(mux)
	}
}

func (s *sandbox) httpClient() *http.Client {
	if s.client != nil {
		return s.client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// credentialString is the credential of an attempt as the string a buyer's
// app hands to the channel.
func (s *sandbox) credentialString(ctx context.Context, outTradeNo string) (string, error) {
	raw, err := s.lookup(ctx, outTradeNo)
	if err != nil {
		return "", err
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return "", fmt.Errorf("credential of %s is not a string", outTradeNo)
	}
	return str, nil
}

// alipay sets up the simulated Alipay and the channel that talks to it.
func (s *sandbox) alipay() (*alipay.Alipay, error) {
	appKey, err := pemkey.EnsureRSAKeyPair(s.dir, "alipay_app", 2048)
	if err != nil {
		return nil, fmt.Errorf("sandbox alipay keys: %w", err)
	}
	platformKey, err := pemkey.EnsureRSAKeyPair(s.dir, "alipay_platform", 2048)
	if err != nil {
		return nil, fmt.Errorf("sandbox alipay keys: %w", err)
	}
	simulator := &sim.Alipay{
		AppID:        SandboxAlipayAppID,
		AppPublicKey: &appKey.PublicKey,
		PlatformKey:  platformKey,
		Lookup:       s.credentialString,
		HTTPClient:   s.httpClient(),
		Logger:       s.log,
		Now:          s.now,
	}
	s.sims = append(s.sims, simulator)
	return alipay.New(alipay.Config{
		AppID:           SandboxAlipayAppID,
		PrivateKey:      appKey,
		AlipayPublicKey: &platformKey.PublicKey,
		SellerID:        simulator.SellerID(),
		GatewayURL:      s.publicURL + "/sandbox/alipay/gateway.do",
		HTTPClient:      s.httpClient(),
		Logger:          s.log,
	})
}
