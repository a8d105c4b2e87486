package wechat

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"cashier/pemkey"
	"cashier/sandbox"
)

// The simulated merchant's ids.
const (
	AppID = "wx0000000000sandbox"
	MchID = "1900000001"
)

// Open starts the simulated WeChat Pay, speaking the API version the
// "wechat" section asks for (2 by default): its keys and secrets in env.Dir
// (wechat_api_key.txt, wechat_apiv3_key.txt, wechat_merchant_*.pem,
// wechat_platform_*.pem), and the section that points cashier's channel at
// it, in WeChat Pay public-key mode for v3.
func Open(section json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	var asked struct {
		APIVersion int `json:"api_version"`
	}
	if len(section) > 0 {
		if err := json.Unmarshal(section, &asked); err != nil {
			return nil, nil, fmt.Errorf("section: %w", err)
		}
	}
	version := asked.APIVersion
	if version == 0 {
		version = 2
	}
	apiKey, err := sandbox.Secret(filepath.Join(env.Dir, "wechat_api_key.txt"), 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	apiV3Key, err := sandbox.Secret(filepath.Join(env.Dir, "wechat_apiv3_key.txt"), 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	merchantKey, err := pemkey.EnsureRSAKeyPair(env.Dir, "wechat_merchant", 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	platformKey, err := pemkey.EnsureRSAKeyPair(env.Dir, "wechat_platform", 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	// WeChat Pay public-key mode: the platform key is named by its id.
	platformID := "PUB_KEY_ID_" + keyFingerprint(&platformKey.PublicKey)
	sim := &WeChat{
		AppID: AppID, MchID: MchID, APIVersion: version,
		APIKey: string(apiKey), SignType: wechatMD5, APIv3Key: string(apiV3Key),
		MerchantKey: &merchantKey.PublicKey, PlatformKey: platformKey, PlatformSerial: platformID,
		HTTPClient: env.Client(), Logger: env.Logger, Now: env.Now,
	}
	sim.Lookup = env.Credential
	opened, err := json.Marshal(map[string]any{
		"app_id": AppID, "mch_id": MchID, "api_version": version, "sign_type": wechatMD5,
		"api_key_file":     filepath.Join(env.Dir, "wechat_api_key.txt"),
		"apiv3_key_file":   filepath.Join(env.Dir, "wechat_apiv3_key.txt"),
		"private_key_file": filepath.Join(env.Dir, "wechat_merchant_private.pem"),
		"serial_no":        strings.ToUpper(keyFingerprint(&merchantKey.PublicKey)),
		"public_key_file":  filepath.Join(env.Dir, "wechat_platform_public.pem"),
		"public_key_id":    platformID,
		"base_url":         env.PublicURL + "/sandbox/wechat",
	})
	return sim, opened, err
}

// keyFingerprint names a key in 32 hex digits, as WeChat's serials look.
func keyFingerprint(k *rsa.PublicKey) string {
	sum := sha256.Sum256(k.N.Bytes())
	return hex.EncodeToString(sum[:16])
}

var (
	_ sandbox.Simulator     = (*WeChat)(nil)
	_ sandbox.RefundSettler = (*WeChat)(nil)
)
