package apple

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"cashier/sandbox"
)

// The simulated app.
const (
	BundleID   = "com.example.cashier.sandbox"
	AppAppleID = 1234567890
)

// Open starts the simulated App Store: its signing chain
// (apple_root_cert.pem, which the channel pins, and
// apple_signing_chain.pem), the ticket secret (apple_ticket_secret.txt) and
// the shared secret of verifyReceipt (apple_shared_secret.txt) in env.Dir,
// and the "apple" section that points the channel at it.
func Open(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	chain, err := ensureChain(env.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	ticketFile := filepath.Join(env.Dir, "apple_ticket_secret.txt")
	if _, err := sandbox.Secret(ticketFile, 32); err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	sharedFile := filepath.Join(env.Dir, "apple_shared_secret.txt")
	shared, err := sandbox.Secret(sharedFile, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	sim := &Apple{BundleID: BundleID, AppAppleID: AppAppleID, SharedSecret: string(shared), Chain: chain,
		NotifyURL: env.PublicURL + "/api/v1/order/notify/apple", Credential: env.Credential,
		HTTPClient: env.Client(), Logger: env.Logger, Now: env.Now}
	section, err := json.Marshal(map[string]any{
		"bundle_id": BundleID, "app_apple_id": AppAppleID, "accept_sandbox": true,
		"ticket_secret_file": ticketFile, "shared_secret_file": sharedFile,
		"root_cert_file":             filepath.Join(env.Dir, rootFile),
		"verify_receipt_url":         env.PublicURL + route + "/verifyReceipt",
		"sandbox_verify_receipt_url": env.PublicURL + route + "/sandbox/verifyReceipt",
	})
	return sim, section, err
}
