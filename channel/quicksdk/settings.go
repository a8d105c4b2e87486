package quicksdk

import (
	"errors"

	"cashier"
	"cashier/channel"
	"cashier/sandbox"
)

// Settings is the "quickSdk" section of the configuration file.
type Settings struct {
	// Sandbox runs QuickSDK against the built-in simulator.
	Sandbox         bool   `json:"sandbox"`
	MD5KeyFile      string `json:"md5_key_file"`      // the Md5_Key of QuickSDK's console
	CallbackKeyFile string `json:"callback_key_file"` // the Callback_Key of QuickSDK's console
	// AcceptTest applies test payments (is_test=1), which cost nothing
	// (default false; the sandbox's simulator sets it).
	AcceptTest bool `json:"accept_test"`
}

// Defaults: nothing to fill in.
func (s *Settings) Defaults() {}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every missing setting.
func (s *Settings) Check() []error {
	if s.Sandbox || s.MD5KeyFile != "" && s.CallbackKeyFile != "" {
		return nil
	}
	return []error{errors.New("quickSdk: md5_key_file and callback_key_file are required")}
}

func open(set channel.Settings, _ channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	md5Key, err := channel.ReadSecret("quickSdk.md5_key_file", s.MD5KeyFile)
	if err != nil {
		return nil, err
	}
	callbackKey, err := channel.ReadSecret("quickSdk.callback_key_file", s.CallbackKeyFile)
	if err != nil {
		return nil, err
	}
	return New(Config{MD5Key: md5Key, CallbackKey: callbackKey, AcceptTest: s.AcceptTest})
}

// Spec describes the QuickSDK channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/quicksdk.Open).
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:          cashier.ChannelQuickSDK,
		TradeNoPrefix: TradeNoPrefix,
		NewSettings:   func() channel.Settings { return &Settings{} },
		Open:          open,
		Simulator:     simulator,
	}
}
