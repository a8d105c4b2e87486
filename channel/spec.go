// Package channel is what every payment channel declares about itself, and
// the type of cashier's one list of channels (app.Channels). A channel is a
// folder under channel/ (its protocol, its configuration section, its Spec)
// and one under sandbox/ (its simulator); everything that enumerates
// channels — configuration keys, the build loop, out_trade_no prefixes,
// simulator routes, the admin console's choices, the conformance suite —
// derives from the list.
package channel

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"cashier"
	"cashier/sandbox"
)

// Spec describes one channel.
type Spec struct {
	// Name is the channel as the order API's channel parameter names it,
	// and its section of the configuration file.
	Name string
	// TradeNoPrefix starts its attempts' out_trade_no (ALI, WX…), so that
	// they read well in the channel's console.
	TradeNoPrefix string
	// NewSettings returns an empty section of the configuration file.
	NewSettings func() Settings
	// Open opens the channel with the credentials of s.
	Open func(s Settings, env Env) (cashier.Channel, error)
	// Simulator starts the channel's simulator (sandbox/<name>.Open), which
	// answers with the section that points the channel at it: the sandbox
	// opens the channel exactly as production does, from key files. The
	// channel's package never imports its simulator, nor the simulator the
	// channel: each one's tests use the other.
	Simulator sandbox.Opener
	// SandboxVariants are sections (JSON) whose simulated channels behave
	// differently enough to be tested each (WeChat Pay's API v2 and v3); the
	// conformance suite runs every one. Empty: the default section only.
	SandboxVariants []string
}

// Settings is a channel's section of the configuration file: JSON, decoded
// with unknown fields refused.
type Settings interface {
	// Defaults fills in what the section leaves out.
	Defaults()
	// Check reports every problem at once, each naming its key
	// ("wechat.app_id is required").
	Check() []error
	// Sandboxed says whether the section asks for the simulator
	// ("sandbox": true) rather than giving credentials.
	Sandboxed() bool
}

// Env is what opening a channel with real credentials needs besides its
// settings.
type Env struct {
	Logger *slog.Logger
	// HTTPClient makes the calls to the channel; nil: one with the
	// settings' timeout.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Client is env's HTTP client, or one with timeout.
func (env Env) Client(timeout time.Duration) *http.Client {
	if env.HTTPClient != nil {
		return env.HTTPClient
	}
	return &http.Client{Timeout: timeout}
}

// OpenSandbox starts the channel's simulator and opens the channel against
// it. section is the channel's section of the configuration ({"sandbox":
// true, …}, or empty), which the simulator may read (WeChat Pay's
// api_version).
func (s Spec) OpenSandbox(section json.RawMessage, env Env, sim sandbox.Env) (cashier.Channel, sandbox.Simulator, error) {
	simulator, opened, err := s.Simulator(section, sim)
	if err != nil {
		return nil, nil, fmt.Errorf("%s sandbox: %w", s.Name, err)
	}
	if opened, err = overlay(section, opened); err != nil {
		return nil, nil, fmt.Errorf("%s sandbox: %w", s.Name, err)
	}
	set, err := s.DecodeSettings(opened)
	if err != nil {
		return nil, nil, fmt.Errorf("%s sandbox: %w", s.Name, err)
	}
	set.Defaults()
	if err := errors.Join(set.Check()...); err != nil {
		return nil, nil, fmt.Errorf("%s sandbox: %w", s.Name, err)
	}
	ch, err := s.Open(set, env)
	if err != nil {
		return nil, nil, err
	}
	return ch, simulator, nil
}

// overlay lays the simulator's keys over the configured section, so that
// what the section chooses besides credentials (WeChat Pay's api_version,
// iPayNow's H5 gateways) applies to the simulated channel too; "sandbox"
// itself is dropped.
func overlay(section, sim json.RawMessage) (json.RawMessage, error) {
	merged := map[string]json.RawMessage{}
	if len(section) > 0 {
		if err := json.Unmarshal(section, &merged); err != nil {
			return nil, err
		}
	}
	delete(merged, "sandbox")
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(sim, &keys); err != nil {
		return nil, err
	}
	for k, v := range keys {
		merged[k] = v
	}
	return json.Marshal(merged)
}

// DecodeSettings reads a channel's section: unknown fields are errors, so a
// typo is not silently a default.
func (s Spec) DecodeSettings(raw json.RawMessage) (Settings, error) {
	set := s.NewSettings()
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(set); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return set, nil
}

// Check reports what is wrong with the list itself: every channel named,
// with a prefix, its functions set, and no name or prefix twice.
func Check(specs []Spec) error {
	var errs []error
	names, prefixes := map[string]bool{}, map[string]bool{}
	for i, s := range specs {
		if s.Name == "" || s.TradeNoPrefix == "" || s.NewSettings == nil || s.Open == nil || s.Simulator == nil {
			errs = append(errs, fmt.Errorf("channel %d (%q): name, prefix, settings and both openers are required", i, s.Name))
		}
		if names[s.Name] {
			errs = append(errs, fmt.Errorf("channel %q is listed twice", s.Name))
		}
		if prefixes[s.TradeNoPrefix] {
			errs = append(errs, fmt.Errorf("out_trade_no prefix %q is used twice", s.TradeNoPrefix))
		}
		names[s.Name], prefixes[s.TradeNoPrefix] = true, true
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration written as "30m" (or a number of seconds) in
// the configuration file.
type Duration time.Duration

// UnmarshalJSON reads "30m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("duration must be a string like \"30m\" or seconds")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as "30m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
