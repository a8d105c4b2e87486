package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// Which channels run how, for every kind of configuration.
func TestChannelModes(t *testing.T) {
	absent := func(name string) channelSetting { return channelSetting{name: name} }
	real := func(name string) channelSetting { return channelSetting{name: name, configured: true} }
	sandboxed := func(name string) channelSetting { return channelSetting{name: name, configured: true, sandbox: true} }
	cases := []struct {
		name       string
		settings   []channelSetting
		besideReal bool
		want       map[string]Mode
		refused    bool
	}{
		{"nothing configured", []channelSetting{absent("a"), absent("b")}, false,
			map[string]Mode{"a": ModeSandbox, "b": ModeSandbox}, false},
		{"sandbox asked, nothing real", []channelSetting{absent("a"), sandboxed("b")}, false,
			map[string]Mode{"a": ModeSandbox, "b": ModeSandbox}, false},
		{"one real, one absent", []channelSetting{real("a"), absent("b")}, false,
			map[string]Mode{"a": ModeReal, "b": ModeDisabled}, false},
		{"one real, one absent, switch on", []channelSetting{real("a"), absent("b")}, true,
			map[string]Mode{"a": ModeReal, "b": ModeDisabled}, false},
		{"one real, one sandboxed, no switch", []channelSetting{real("a"), sandboxed("b")}, false, nil, true},
		{"one real, one sandboxed, switch on", []channelSetting{real("a"), sandboxed("b"), absent("c")}, true,
			map[string]Mode{"a": ModeReal, "b": ModeSandbox, "c": ModeDisabled}, false},
		{"all real", []channelSetting{real("a"), real("b")}, false,
			map[string]Mode{"a": ModeReal, "b": ModeReal}, false},
	}
	for _, c := range cases {
		got, err := channelModes(c.settings, c.besideReal)
		if c.refused {
			if err == nil || !strings.Contains(err.Error(), SandboxBesideReal) || !strings.Contains(err.Error(), "b.sandbox") {
				t.Errorf("%s: %v, want a refusal naming b.sandbox and the switch", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for name, m := range c.want {
			if got[name] != m {
				t.Errorf("%s: %s is %s, want %s", c.name, name, got[name], m)
			}
		}
	}
}

func TestSandboxSwitchValues(t *testing.T) {
	for _, v := range []string{"yes", "true", "allow"} {
		c := Config{Sandbox: v}
		c.Defaults()
		if err := c.Check(); err == nil || !strings.Contains(err.Error(), SandboxBesideReal) {
			t.Errorf("sandbox %q: %v", v, err)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Simulators beside real channels are said at start and again and again.
func TestSandboxWarningRepeats(t *testing.T) {
	var buf lockedBuffer
	a := &App{log: slog.New(slog.NewTextHandler(&buf, nil)), Sandboxed: []string{"wechat"},
		Modes: map[string]Mode{"alipay": ModeReal, "wechat": ModeSandbox}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.warnSandbox(ctx, 5*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(buf.String(), "SANDBOX BESIDE REAL CHANNELS") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("warnings: %s", buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "sandboxed=[wechat]") {
		t.Errorf("warning: %s", buf.String())
	}
}
