package yijie

import (
	"errors"

	"cashier"
	"cashier/channel"
	"cashier/sandbox"
)

// Settings is the "yijie" section of the configuration file.
type Settings struct {
	// Sandbox runs Yijie against the built-in simulator.
	Sandbox     bool   `json:"sandbox"`
	App         string `json:"app"`           // the app id from Yijie's console
	SyncKeyFile string `json:"sync_key_file"` // the sync key that signs callbacks
}

// Defaults: nothing to fill in.
func (s *Settings) Defaults() {}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every missing setting.
func (s *Settings) Check() []error {
	if s.Sandbox || s.App != "" && s.SyncKeyFile != "" {
		return nil
	}
	return []error{errors.New("yijie: app and sync_key_file are required")}
}

func open(set channel.Settings, _ channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	key, err := channel.ReadSecret("yijie.sync_key_file", s.SyncKeyFile)
	if err != nil {
		return nil, err
	}
	return New(Config{App: s.App, SyncKey: key})
}

// Spec describes the Yijie channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/yijie.Open).
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:          cashier.ChannelYijie,
		TradeNoPrefix: TradeNoPrefix,
		NewSettings:   func() channel.Settings { return &Settings{} },
		Open:          open,
		Simulator:     simulator,
	}
}
