package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cashier/channel/alipay"
	"cashier/channel/wechat"
	"cashier/pemkey"
)

// readmeConfig is the configuration file the README showed before channels
// declared their own sections: it must load, and mean the same, unchanged.
const readmeConfig = `{
  "public_url": "https://pay.example.com",
  "order_ttl": "30m",
  "poll_delay": "2m",
  "late_refunds": "auto",
  "webhook_timeout": "10s",
  "result_url": "https://shop.example.com/orders/{order_id}",
  "log_format": "json",
  "trusted_proxies": ["10.0.0.0/8"],
  "jwt": {"secret_file": "/etc/cashier/jwt_secret"},
  "alipay": {
    "app_id": "2021000000000000",
    "private_key_file": "/etc/cashier/alipay_app_private.pem",
    "alipay_public_key_file": "/etc/cashier/alipay_platform_public.pem",
    "seller_id": "2088000000000000",
    "timeout": "10s"
  },
  "wechat": {
    "app_id": "wx0000000000000000",
    "mch_id": "1900000000",
    "api_version": 3,
    "apiv3_key_file": "/etc/cashier/wechat_apiv3_key",
    "private_key_file": "/etc/cashier/apiclient_key.pem",
    "serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    "public_key_file": "/etc/cashier/pub_key.pem",
    "public_key_id": "PUB_KEY_ID_0000000000000000000000000000000000",
    "timeout": "10s"
  }
}`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cashier.json")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFileOfEarlierVersionsMeansTheSame(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, readmeConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Defaults()
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	settings, errs := cfg.settings(Channels(), nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	a := settings["alipay"].(*alipay.Settings)
	if a.AppID != "2021000000000000" || a.SellerID != "2088000000000000" || a.PrivateKeyFile != "/etc/cashier/alipay_app_private.pem" ||
		a.AlipayPublicKeyFile != "/etc/cashier/alipay_platform_public.pem" || a.GatewayURL != alipay.DefaultGatewayURL || a.Sandbox {
		t.Errorf("alipay section read as %+v", a)
	}
	w := settings["wechat"].(*wechat.Settings)
	if w.APIVersion != 3 || w.MchID != "1900000000" || w.SerialNo != "5157F09EFDC096DE15EBE81A47057A7232F1B8E1" ||
		w.PublicKeyID != "PUB_KEY_ID_0000000000000000000000000000000000" || w.BaseURL != wechat.DefaultBaseURL || w.Sandbox {
		t.Errorf("wechat section read as %+v", w)
	}
	modes, err := cfg.Modes()
	if err != nil || modes["alipay"] != ModeReal || modes["wechat"] != ModeReal {
		t.Errorf("modes %v %v", modes, err)
	}
	if cfg.PublicURL != "https://pay.example.com" || cfg.JWT.SecretFile != "/etc/cashier/jwt_secret" || len(cfg.TrustedProxies) != 1 {
		t.Errorf("the rest read as %+v", cfg)
	}
}

// The same file with key files that exist opens both channels for real.
func TestConfigFileOpensRealChannels(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"alipay_app", "alipay_platform", "apiclient", "wechat_platform"} {
		if _, err := pemkey.EnsureRSAKeyPair(dir, name, 2048); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "wechat_apiv3_key"), []byte(strings.Repeat("k", 32)), 0o600)
	os.WriteFile(filepath.Join(dir, "jwt_secret"), []byte(strings.Repeat("s", 32)), 0o600)
	text := strings.NewReplacer(
		"/etc/cashier/alipay_app_private.pem", filepath.Join(dir, "alipay_app_private.pem"),
		"/etc/cashier/alipay_platform_public.pem", filepath.Join(dir, "alipay_platform_public.pem"),
		"/etc/cashier/apiclient_key.pem", filepath.Join(dir, "apiclient_private.pem"),
		"/etc/cashier/pub_key.pem", filepath.Join(dir, "wechat_platform_public.pem"),
		"/etc/cashier/", dir+"/",
		`"public_url": "https://pay.example.com",`, `"public_url": "https://pay.example.com", "data": "`+filepath.Join(dir, "data")+`",`,
	).Replace(readmeConfig)
	cfg, err := LoadConfig(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Sandboxed) != 0 || strings.Join(a.ChannelsIn(ModeReal), ",") != "alipay,wechat" || len(a.Simulators) != 0 {
		t.Errorf("sandboxed %v, real %v", a.Sandboxed, a.ChannelsIn(ModeReal))
	}
	for _, name := range []string{"alipay", "wechat"} {
		if _, err := a.Checkout.Channel(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every error of every section at once, each naming its key; unknown keys
// are errors, in a channel's section too.
func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ file, says string }{
		{`{"alipay": {"app_id": "1", "appid": "2"}}`, `alipay: json: unknown field "appid"`},
		{`{"adress": "127.0.0.1:9"}`, `unknown field "adress"`},
		{`{"paypal": {}}`, `unknown field "paypal"`},
		{`{"alipay": {"app_id": "1"}, "wechat": {"api_version": 4}}`, "alipay.private_key_file is required"},
		{`{"alipay": {"app_id": "1"}, "wechat": {"api_version": 4}}`, "wechat.api_version 4"},
		{`{"wechat": "yes"}`, "wechat: json: cannot unmarshal"},
		{`{"database": {"max_conns": -1}}`, "database.max_conns -1 must be between 1 and 1000"},
		{`{"database": {"sqlite_synchronous": "off"}}`, `database.sqlite_synchronous "off": use full or normal`},
		{`{"database": {"max_connections": 5}}`, `unknown field "max_connections"`},
		{`{"debug_addr": "0.0.0.0:6060"}`, `debug_addr: "0.0.0.0:6060" is not a loopback address`},
		{`{"debug_addr": "6060"}`, `debug_addr: address 6060: missing port`},
		{`{"job_sweep_interval": "10ms"}`, "job_sweep_interval 10ms must be between 100ms and 1m"},
	} {
		cfg, err := LoadConfig(writeConfig(t, c.file))
		if err == nil {
			cfg.Defaults()
			err = cfg.Check()
		}
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %q", c.file, err, c.says)
		}
	}
}
