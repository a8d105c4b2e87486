package app

import (
	"fmt"
	"strings"
)

// SandboxBesideReal is the value of the configuration's "sandbox" key that
// lets a channel marked "sandbox": true run beside channels with real
// credentials. Its simulator can mark that channel's orders paid for anyone
// who asks, so the name says what it does.
const SandboxBesideReal = "allow-beside-real-channels"

// Mode is how a channel runs on this server.
type Mode string

const (
	ModeReal     Mode = "real"     // real credentials, the channel's real servers
	ModeSandbox  Mode = "sandbox"  // the built-in simulator, generated keys
	ModeDisabled Mode = "disabled" // not offered: 503 "not enabled"
)

// channelSetting is what the configuration says of one channel.
type channelSetting struct {
	name       string
	configured bool // its section is present
	sandbox    bool // its section says "sandbox": true
}

// channelModes decides how each channel runs. With no real credentials
// anywhere (the zero configuration) every channel is sandboxed, which is the
// demo. Once one channel has real credentials, a channel without them is
// disabled, never simulated: a simulator beside real money would let anyone
// mark orders paid. A channel asking for its sandbox beside real channels is
// refused unless besideReal (the loudly named switch) allows it.
func channelModes(settings []channelSetting, besideReal bool) (map[string]Mode, error) {
	var real, asked []string
	for _, s := range settings {
		switch {
		case s.configured && !s.sandbox:
			real = append(real, s.name)
		case s.sandbox:
			asked = append(asked, s.name)
		}
	}
	modes := map[string]Mode{}
	for _, s := range settings {
		switch {
		case len(real) == 0:
			modes[s.name] = ModeSandbox
		case s.configured && !s.sandbox:
			modes[s.name] = ModeReal
		case s.sandbox && besideReal:
			modes[s.name] = ModeSandbox
		default:
			modes[s.name] = ModeDisabled
		}
	}
	if len(real) > 0 && len(asked) > 0 && !besideReal {
		sandboxed := make([]string, len(asked))
		for i, name := range asked {
			sandboxed[i] = name + ".sandbox"
		}
		return nil, fmt.Errorf("refusing to start: %s is true beside real credentials for %s, and a sandboxed channel lets anyone "+
			"mark its orders paid; remove it, or set \"sandbox\": %q to allow it (never with real money)",
			strings.Join(sandboxed, ", "), strings.Join(real, ", "), SandboxBesideReal)
	}
	return modes, nil
}

// checkSandboxSwitch checks the top-level "sandbox" key.
func checkSandboxSwitch(v string) error {
	if v != "" && v != SandboxBesideReal {
		return fmt.Errorf("sandbox %q: the only value is %q (sandboxed channels beside real ones)", v, SandboxBesideReal)
	}
	return nil
}

// anyIn reports whether any channel runs in mode m.
func anyIn(modes map[string]Mode, m Mode) bool {
	for _, v := range modes {
		if v == m {
			return true
		}
	}
	return false
}
