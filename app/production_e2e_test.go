package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// realAlipay gives a configuration real Alipay credentials: the sandbox's key
// files, and a gateway nobody answers at (APP orders need no call).
func realAlipay(c *app.Config) {
	setSection(c, "alipay", fmt.Sprintf(`{"app_id": "2021000000000077", "private_key_file": %q,
		"alipay_public_key_file": %q, "gateway_url": "http://127.0.0.1:1/gateway.do"}`,
		filepath.Join(c.Data, "sandbox", "alipay_app_private.pem"), filepath.Join(c.Data, "sandbox", "alipay_platform_public.pem")))
}

// getText fetches a page of h and returns its status and body.
func (h *harness) getText(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// adminPost sends a JSON body to an admin endpoint.
func (h *harness) adminPost(path, body string) reply {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.app.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		h.t.Fatalf("POST %s: %d %q", path, resp.StatusCode, raw)
	}
	r.Status = resp.StatusCode
	return r
}

// A channel without credentials never runs its simulator beside a channel
// with real ones: anybody could pay its orders through /sandbox/. Each
// configuration: which simulators are mounted, which channels answer, what
// /readyz and /metrics say, and whether demo data and a dev token appear.
func TestSandboxNeverBesideRealCredentials(t *testing.T) {
	var all []string
	for _, s := range app.Channels() {
		all = append(all, s.Name)
	}
	allBut := func(name string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == name })
	}
	cases := []struct {
		name      string
		configure func(*app.Config)
		sandboxed []string // simulators mounted
		enabled   []string // channels that take orders
		disabled  []string // channels that answer 503
		demo      bool
	}{
		{"nothing configured", nil, all, []string{"alipay", "wechat"}, nil, true},
		{"real alipay, nothing else", realAlipay, nil, []string{"alipay"}, allBut("alipay"), false},
		{"real alipay, wechat sandbox with the switch", func(c *app.Config) {
			realAlipay(c)
			setSection(c, "wechat", `{"sandbox": true}`)
			c.Sandbox = app.SandboxBesideReal
		}, []string{"wechat"}, []string{"alipay", "wechat"}, slices.DeleteFunc(allBut("alipay"), func(n string) bool { return n == "wechat" }), false},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			storetest.Dialects(t, func(t *testing.T, dsn string) {
				h := newHarnessWith(t, dsn, c.configure, app.Options{})
				if !c.demo {
					if r := h.adminPost("/admin/api/packages", `{"name":"Pack","price":600}`); r.Status != 201 {
						t.Fatalf("create package: %d %s", r.Status, r.Message)
					}
				}
				for _, ch := range all {
					status, _, body := h.simulatorPay(ch, "ALI20261123100000123", "")
					mounted := !(status == 404 && strings.Contains(body, "no such endpoint"))
					if want := slices.Contains(c.sandboxed, ch); mounted != want {
						t.Errorf("/sandbox/%s/pay mounted %v, want %v (%d %s)", ch, mounted, want, status, body)
					}
				}
				for _, ch := range c.enabled {
					gw := map[string]string{"alipay": "app", "wechat": "app"}[ch]
					r := h.post("/api/v1/order", h.token, url.Values{"source": {"s"}, "package_id": {"1"}, "channel": {ch}, "gateway": {gw}})
					if r.Status != 200 {
						t.Errorf("%s order: %d %s", ch, r.Status, r.Message)
					}
				}
				for _, ch := range c.disabled {
					r := h.post("/api/v1/order", h.token, url.Values{"source": {"s"}, "package_id": {"1"}, "channel": {ch}, "gateway": {"alipay"}})
					if r.Status != 503 || !strings.Contains(r.Message, "not enabled") {
						t.Errorf("%s order: %d %s, want 503 not enabled", ch, r.Status, r.Message)
					}
					if status, _ := h.getText("/api/v1/order/notify/" + ch); status != 404 {
						t.Errorf("notify endpoint of disabled %s: %d", ch, status)
					}
				}
				_, ready := h.getText("/readyz")
				var rz struct {
					SandboxChannels []string `json:"sandbox_channels"`
					BesideReal      bool     `json:"sandbox_beside_real_channels"`
				}
				json.Unmarshal([]byte(ready), &rz)
				if strings.Join(rz.SandboxChannels, ",") != strings.Join(c.sandboxed, ",") || rz.BesideReal != (len(c.sandboxed) > 0 && !c.demo) {
					t.Errorf("/readyz: %s", ready)
				}
				_, metrics := h.getText("/metrics")
				gauge := "cashier_sandbox_enabled 0"
				if len(c.sandboxed) > 0 {
					gauge = "cashier_sandbox_enabled 1"
				}
				if !strings.Contains(metrics, gauge) {
					t.Errorf("/metrics lacks %q", gauge)
				}
				if h.app.Demo() != c.demo || h.app.DevToken() != c.demo {
					t.Errorf("demo %v, dev token %v, want %v", h.app.Demo(), h.app.DevToken(), c.demo)
				}
				var pkgs []map[string]any
				json.Unmarshal(h.get("/api/v1/packages", h.token).Data, &pkgs)
				if seeded := len(pkgs) == 3; seeded != c.demo {
					t.Errorf("%d packages: demo data seeded %v, want %v", len(pkgs), seeded, c.demo)
				}
			})
		})
	}
}

// Real credentials beside "sandbox": true without the switch: cashier does
// not start, and says why.
func TestSandboxBesideRealNeedsTheSwitch(t *testing.T) {
	data := t.TempDir()
	cfg := app.Config{Data: data, DB: filepath.Join(data, "cashier.db")}
	realAlipay(&cfg)
	setSection(&cfg, "wechat", `{"sandbox": true}`)
	cfg.Defaults()
	_, err := app.New(context.Background(), cfg, app.Options{})
	if err == nil || !strings.Contains(err.Error(), "wechat.sandbox") || !strings.Contains(err.Error(), app.SandboxBesideReal) {
		t.Fatalf("started, or said %v", err)
	}
}
