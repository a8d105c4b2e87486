package app

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"cashier/channel/alipay"
	"cashier/channel/wechat"
	"cashier/pemkey"
	sim "cashier/sandbox"
)

// The simulated merchants' ids.
const (
	SandboxAlipayAppID = "9021000000000001"
	SandboxWeChatAppID = "wx0000000000sandbox"
	SandboxWeChatMchID = "1900000001"
)

// Simulators are the running channel simulators, for tests that need to
// reach behind the protocol (to inject faults, say).
type Simulators struct {
	Alipay *sim.Alipay
	WeChat *sim.WeChat
}

// sandbox runs the far side of the channels that have no real credentials:
// key pairs in the data directory, and the simulators under /sandbox/.
type sandbox struct {
	dir       string
	publicURL string
	log       *slog.Logger
	client    *http.Client
	now       func() time.Time
	lookup    func(ctx context.Context, outTradeNo string) ([]byte, error)

	sims Simulators
}

// Register mounts every simulator that runs.
func (s *sandbox) Register(mux *http.ServeMux) {
	if s.sims.Alipay != nil {
		s.sims.Alipay.Register(mux)
	}
	if s.sims.WeChat != nil {
		s.sims.WeChat.Register(mux)
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
	s.sims.Alipay = simulator
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

// wechat sets up the simulated WeChat Pay, speaking API version, and the
// channel that talks to it.
func (s *sandbox) wechat(version int) (*wechat.WeChat, error) {
	apiKey, err := ensureSecret(filepath.Join(s.dir, "wechat_api_key.txt"), 16)
	if err != nil {
		return nil, fmt.Errorf("sandbox wechat keys: %w", err)
	}
	apiV3Key, err := ensureSecret(filepath.Join(s.dir, "wechat_apiv3_key.txt"), 16)
	if err != nil {
		return nil, fmt.Errorf("sandbox wechat keys: %w", err)
	}
	merchantKey, err := pemkey.EnsureRSAKeyPair(s.dir, "wechat_merchant", 2048)
	if err != nil {
		return nil, fmt.Errorf("sandbox wechat keys: %w", err)
	}
	platformKey, err := pemkey.EnsureRSAKeyPair(s.dir, "wechat_platform", 2048)
	if err != nil {
		return nil, fmt.Errorf("sandbox wechat keys: %w", err)
	}
	// WeChat Pay public-key mode: the platform key is named by its id.
	platformID := "PUB_KEY_ID_" + keyFingerprint(&platformKey.PublicKey)
	s.sims.WeChat = &sim.WeChat{
		AppID: SandboxWeChatAppID, MchID: SandboxWeChatMchID, APIVersion: version,
		APIKey: string(apiKey), SignType: "MD5", APIv3Key: string(apiV3Key),
		MerchantKey: &merchantKey.PublicKey, PlatformKey: platformKey, PlatformSerial: platformID,
		HTTPClient: s.httpClient(), Logger: s.log, Now: s.now,
		Lookup: func(ctx context.Context, outTradeNo string) (json.RawMessage, error) {
			raw, err := s.lookup(ctx, outTradeNo)
			return json.RawMessage(raw), err
		},
	}
	return wechat.New(wechat.Config{
		AppID: SandboxWeChatAppID, MchID: SandboxWeChatMchID, APIVersion: version,
		APIKey: string(apiKey), SignType: "MD5", APIv3Key: string(apiV3Key),
		PrivateKey: merchantKey, SerialNo: strings.ToUpper(keyFingerprint(&merchantKey.PublicKey)),
		PlatformKeys: map[string]*rsa.PublicKey{platformID: &platformKey.PublicKey},
		BaseURL:      s.publicURL + "/sandbox/wechat",
		HTTPClient:   s.httpClient(), Now: s.now, Logger: s.log,
	})
}

// keyFingerprint names a key in 32 hex digits, as WeChat's serials look.
func keyFingerprint(k *rsa.PublicKey) string {
	sum := sha256.Sum256(k.N.Bytes())
	return hex.EncodeToString(sum[:16])
}
