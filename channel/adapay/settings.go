package adapay

import (
	"errors"
	"time"

	"cashier"
	"cashier/channel"
	"cashier/sandbox"
)

// Settings is the "adapay" section of the configuration file.
type Settings struct {
	// Sandbox runs AdaPay against the built-in simulator; the credential
	// fields are then ignored.
	Sandbox             bool             `json:"sandbox"`
	AppID               string           `json:"app_id"`
	APIKeyFile          string           `json:"api_key_file"`           // the api key (live or test) from AdaPay's console
	PrivateKeyFile      string           `json:"private_key_file"`       // the merchant's RSA private key: PEM, or base64 PKCS#1/PKCS#8
	AdaPayPublicKeyFile string           `json:"adapay_public_key_file"` // AdaPay's RSA public key: PEM, or base64
	BaseURL             string           `json:"base_url"`               // default DefaultBaseURL
	Timeout             channel.Duration `json:"timeout"`                // default 10s
}

// Defaults fills in the host and the timeout.
func (s *Settings) Defaults() {
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	if s.Timeout <= 0 {
		s.Timeout = channel.Duration(10 * time.Second)
	}
}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every missing credential.
func (s *Settings) Check() []error {
	if s.Sandbox {
		return nil
	}
	if s.AppID == "" || s.APIKeyFile == "" || s.PrivateKeyFile == "" || s.AdaPayPublicKeyFile == "" {
		return []error{errors.New("adapay: app_id, api_key_file, private_key_file and adapay_public_key_file are required")}
	}
	return nil
}

// open reads the key files and opens the channel.
func open(set channel.Settings, env channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	apiKey, err := channel.ReadSecret("adapay.api_key_file", s.APIKeyFile)
	if err != nil {
		return nil, err
	}
	key, err := channel.ReadRSAPrivateKey("adapay.private_key_file", s.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	pub, err := channel.ReadRSAPublicKey("adapay.adapay_public_key_file", s.AdaPayPublicKeyFile)
	if err != nil {
		return nil, err
	}
	return New(Config{AppID: s.AppID, APIKey: apiKey, PrivateKey: key, PublicKey: pub,
		BaseURL: s.BaseURL, HTTPClient: env.Client(time.Duration(s.Timeout)), Logger: env.Logger})
}

// Spec describes the AdaPay channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/adapay.Open).
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:          cashier.ChannelAdaPay,
		TradeNoPrefix: "ADA",
		NewSettings:   func() channel.Settings { return &Settings{} },
		Open:          open,
		Simulator:     simulator,
	}
}
