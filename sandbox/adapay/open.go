package adapay

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"cashier/pemkey"
	"cashier/sandbox"
)

// AppID is the simulated merchant app's id.
const AppID = "app_00000000-0000-0000-0000-sandbox00001"

// Open starts the simulated AdaPay: the merchant's key pair
// (adapay_app_*.pem), "AdaPay's" (adapay_platform_*.pem) and the api key
// (adapay_api_key.txt) in env.Dir, and the "adapay" section that points the
// channel at it.
func Open(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	appKey, err := pemkey.EnsureRSAKeyPair(env.Dir, "adapay_app", 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	platformKey, err := pemkey.EnsureRSAKeyPair(env.Dir, "adapay_platform", 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	apiKeyFile := filepath.Join(env.Dir, "adapay_api_key.txt")
	apiKey, err := sandbox.Secret(apiKeyFile, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	sim := &AdaPay{AppID: AppID, APIKey: string(apiKey), MerchantKey: &appKey.PublicKey, PlatformKey: platformKey,
		BaseURL: env.PublicURL + route, HTTPClient: env.Client(), Logger: env.Logger, Now: env.Now}
	section, err := json.Marshal(map[string]string{
		"app_id": AppID, "api_key_file": apiKeyFile,
		"private_key_file":       filepath.Join(env.Dir, "adapay_app_private.pem"),
		"adapay_public_key_file": filepath.Join(env.Dir, "adapay_platform_public.pem"),
		"base_url":               env.PublicURL + route,
	})
	return sim, section, err
}
