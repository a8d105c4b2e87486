package ipaynow

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"cashier/sandbox"
)

// Open starts the simulated iPayNow: its app id and app key in env.Dir
// (helloNow_app_id.txt, helloNow_app_key.txt), and the "helloNow" section
// that points the channel at it.
func Open(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	keyFile := filepath.Join(env.Dir, "helloNow_app_key.txt")
	key, err := sandbox.Secret(keyFile, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	appID, err := appID(filepath.Join(env.Dir, "helloNow_app_id.txt"))
	if err != nil {
		return nil, nil, err
	}
	sim := &IPayNow{AppID: appID, AppKey: string(key), BaseURL: env.PublicURL + route,
		HTTPClient: env.Client(), Logger: env.Logger, Now: env.Now}
	sim.Lookup = env.Credential
	section, err := json.Marshal(map[string]string{
		"app_id": appID, "app_key_file": keyFile,
		"gateway_url": env.PublicURL + route + "/gateway", "refund_url": env.PublicURL + route + "/refund/",
	})
	return sim, section, err
}

// appID reads the sandbox app's id, making one of 15 digits on first use.
func appID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1e14))
	if err != nil {
		return "", err
	}
	id := fmt.Sprintf("1%014d", n.Int64())
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return id, os.WriteFile(path, []byte(id+"\n"), 0o600)
}
