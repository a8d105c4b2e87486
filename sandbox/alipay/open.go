package alipay

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"cashier/pemkey"
	"cashier/sandbox"
)

// AppID is the simulated merchant app's id.
const AppID = "9021000000000001"

// Open starts the simulated Alipay: the merchant app's key pair and
// "Alipay's" in env.Dir (alipay_app_*.pem, alipay_platform_*.pem), and the
// "alipay" section that points cashier's channel at the simulator's gateway,
// in public-key mode.
func Open(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	appKey, err := pemkey.EnsureRSAKeyPair(env.Dir, "alipay_app", 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	platformKey, err := pemkey.EnsureRSAKeyPair(env.Dir, "alipay_platform", 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	sim := &Alipay{
		AppID:        AppID,
		AppPublicKey: &appKey.PublicKey,
		PlatformKey:  platformKey,
		HTTPClient:   env.Client(),
		Logger:       env.Logger,
		Now:          env.Now,
	}
	if env.Credential != nil {
		sim.Lookup = func(ctx context.Context, outTradeNo string) (string, error) {
			raw, err := env.Credential(ctx, outTradeNo)
			if err != nil {
				return "", err
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("credential of %s is not a string", outTradeNo)
			}
			return s, nil
		}
	}
	section, err := json.Marshal(map[string]string{
		"app_id":                 AppID,
		"private_key_file":       filepath.Join(env.Dir, "alipay_app_private.pem"),
		"alipay_public_key_file": filepath.Join(env.Dir, "alipay_platform_public.pem"),
		"seller_id":              sim.SellerID(),
		"gateway_url":            env.PublicURL + "/sandbox/alipay/gateway.do",
	})
	return sim, section, err
}

var _ sandbox.Simulator = (*Alipay)(nil)
