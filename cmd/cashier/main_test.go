package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier/sqlstore/storetest"

	"github.com/golang-jwt/jwt/v5"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// waitFor polls until re matches out, or fails at the deadline.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp, errc <-chan error) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		select {
		case err := <-errc:
			t.Fatalf("serve ended early: %v\n%s", err, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %q in output:\n%s", re, out)
	return nil
}

// The first command of the README: no configuration, sandbox mode, demo data,
// a token printed, graceful shutdown.
func TestServeSandbox(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, env(map[string]string{"CASHIER_DATA": data}), &stdout, &stderr)
	}()
	addr := waitFor(t, &stdout, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`), errc)[1]
	token := waitFor(t, &stdout, regexp.MustCompile(`valid 30 days\):\n(\S+)\n`), errc)[1]

	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/packages", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(body.String(), `"price"`) < 3 {
		t.Fatalf("packages with the printed token: %d %s", resp.StatusCode, body.String())
	}
	for _, f := range []string{"alipay_app_private.pem", "alipay_app_public.pem", "alipay_platform_private.pem",
		"alipay_platform_public.pem", "jwt_secret.txt"} {
		if _, err := os.Stat(filepath.Join(data, "sandbox", f)); err != nil {
			t.Errorf("sandbox file: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "cashier.db")); err != nil {
		t.Errorf("SQLite database: %v", err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve after SIGINT: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if strings.Contains(stderr.String(), "PRIVATE KEY") || strings.Contains(stdout.String(), "PRIVATE KEY") {
		t.Error("key material in the output")
	}
}

func TestToken(t *testing.T) {
	data := t.TempDir()
	// What serve leaves in the data directory.
	os.MkdirAll(filepath.Join(data, "sandbox"), 0o700)
	os.WriteFile(filepath.Join(data, "sandbox", "jwt_secret.txt"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"token", "--user", "alice", "--data", data}, env(nil), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(out.String()), &claims, func(*jwt.Token) (any, error) {
		return []byte(strings.Repeat("ab", 32)), nil
	}, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil || claims.Subject != "alice" {
		t.Fatalf("token %q: %v, sub %q", out.String(), err, claims.Subject)
	}
	if err := run(context.Background(), []string{"token", "--data", data}, env(nil), &out, &errOut); err == nil {
		t.Error("token without --user succeeded")
	}
}

// Commands that read what serve wrote never make a data directory of their
// own: run from the wrong directory they say so, and leave nothing behind.
func TestCommandsNeedTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "cashier-data")
	for _, args := range [][]string{
		{"token", "--user", "alice", "--data", missing},
		{"notify", "verify", "--data", missing, "1"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, env(nil), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "no data directory at "+missing) || !strings.Contains(err.Error(), "cashier serve") {
			t.Errorf("%v: %v", args, err)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%v created %s", args, missing)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o700)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "--user", "a", "--data", empty}, env(nil), &out, &out); err == nil ||
		!strings.Contains(err.Error(), "no JWT secret") {
		t.Errorf("token in a data directory without a secret: %v", err)
	}
}

// Help is not an error, and version says what was built.
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "serve"}, {"serve", "--help"}, {"migrate", "-h"},
		{"token", "--help"}, {"notify", "--help"}, {"notify", "verify", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, env(nil), &out, &out); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if out.Len() == 0 {
			t.Errorf("%v printed nothing", args)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env(nil), &out, &out); err != nil || !strings.HasPrefix(out.String(), "cashier ") ||
		!strings.Contains(out.String(), "revision") {
		t.Errorf("version: %v %q", err, out.String())
	}
}

// With a JWT secret of the operator's, serve prints no development token.
func TestServeWithOperatorSecretPrintsNoToken(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "jwt_secret")
	os.WriteFile(secret, []byte(strings.Repeat("s", 40)), 0o600)
	cfg := filepath.Join(dir, "cashier.json")
	os.WriteFile(cfg, []byte(`{"jwt": {"secret_file": "`+secret+`"}}`), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--config", cfg}, env(nil), &stdout, &stderr)
	}()
	waitFor(t, &stdout, regexp.MustCompile(`admin token in`), errc)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "development token") || strings.Contains(stdout.String(), "eyJ") {
		t.Errorf("a token was printed:\n%s", stdout.String())
	}
}

func TestMigrate(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		var out bytes.Buffer
		args := []string{"migrate", "--data", t.TempDir(), "--db", dsn}
		for i := 0; i < 2; i++ { // twice: the second run has nothing to do
			if err := run(context.Background(), args, env(nil), &out, &out); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out.String())
			}
		}
		if !strings.Contains(out.String(), "migrations applied") {
			t.Errorf("output: %s", out.String())
		}
	})
}

func TestBadInvocations(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.json")
	os.WriteFile(typo, []byte(`{"adress": "127.0.0.1:9"}`), 0o600)
	badAlipay := filepath.Join(dir, "alipay.json")
	os.WriteFile(badAlipay, []byte(`{"alipay": {"app_id": "1"}}`), 0o600)
	cases := []struct {
		args []string
		says string
	}{
		{nil, "no command"},
		{[]string{"fly"}, "unknown command"},
		{[]string{"serve", "--config", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"serve", "--config", typo}, "unknown field"},
		{[]string{"serve", "--config", badAlipay}, "private_key_file is required"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := run(context.Background(), c.args, env(map[string]string{"CASHIER_DATA": dir}), &out, &out)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%v: %v, want %q", c.args, err, c.says)
		}
	}
}

// "cashier notify verify" re-verifies what was recorded: the sandbox's genuine
// notification verifies, a forged one does not.
func TestNotifyVerify(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, env(nil), &stdout, &stderr)
	}()
	addr := waitFor(t, &stdout, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`), errc)[1]
	token := waitFor(t, &stdout, regexp.MustCompile(`valid 30 days\):\n(\S+)\n`), errc)[1]
	base := "http://" + addr
	post := func(path, body string, auth bool) string {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	post("/api/v1/order", "source=s&package_id=1&channel=alipay&gateway=app", true)
	detail := func() string {
		req, _ := http.NewRequest("GET", base+"/api/v1/orders/1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	otn := regexp.MustCompile(`"out_trade_no":"(\w+)"`).FindStringSubmatch(detail())[1]
	if out := post("/sandbox/alipay/pay", "out_trade_no="+otn, false); !strings.Contains(out, `"notify_reply":"success"`) {
		t.Fatalf("sandbox pay: %s", out)
	}
	post("/api/v1/order/notify/alipay", "out_trade_no="+otn+"&total_amount=6.00&trade_status=TRADE_SUCCESS&app_id=9021000000000001&sign_type=RSA2&sign=Zm9yZ2Vk", false)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"notify", "verify", "--data", data, "1"}, env(nil), &out, &out); err != nil {
		t.Fatalf("genuine message: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verification now: OK") || !strings.Contains(out.String(), otn) || !strings.Contains(out.String(), "6.00 yuan") {
		t.Errorf("genuine message: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"notify", "verify", "--data", data, "2"}, env(nil), &out, &out); err == nil {
		t.Fatalf("forged message verified:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "recorded outcome: rejected") || !strings.Contains(out.String(), "FAILS") {
		t.Errorf("forged message: %s", out.String())
	}
	if err := run(context.Background(), []string{"notify", "verify", "--data", data, "99"}, env(nil), &out, &out); err == nil {
		t.Error("an unknown message verified")
	}
}

// debug_addr serves Go's profiler on loopback, without the command line.
func TestServeProfiler(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cashier.json")
	if err := os.WriteFile(cfg, []byte(`{"debug_addr": "127.0.0.1:0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--config", cfg},
			env(map[string]string{"CASHIER_DATA": filepath.Join(dir, "data")}), &stdout, &stderr)
	}()
	base := waitFor(t, &stdout, regexp.MustCompile(`profiler on (http://127\.0\.0\.1:\d+)/debug/pprof/`), errc)[1]
	for path, want := range map[string]int{"/debug/pprof/": 200, "/debug/pprof/goroutine?debug=1": 200, "/debug/pprof/cmdline": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
