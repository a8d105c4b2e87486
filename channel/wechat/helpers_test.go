package wechat

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cashier"
	"cashier/sandbox/sandboxtest"
	wechatsim "cashier/sandbox/wechat"
)

// vectorsDir holds public test vectors, copied from the project's shared ones
// (each names its source).
const vectorsDir = "testdata"

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorsDir, name))
	if err != nil {
		t.Fatalf("read vector: %v", err)
	}
	return data
}

const (
	testAppID          = "wx8888888888888888"
	testMchID          = "1900000109"
	testAPIKey         = "8934e7d15453e97507ef794cf7b0519d" // 32 characters, like the console's
	testAPIv3Key       = "a7cde1ZJB1kG2e7VfTs3jQzG6Pq8mX0y" // 32 bytes
	testMerchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	testPlatformSerial = "3775B6A45ACD588826D15E583A95F5DD03E6FE9C"
)

func genKey() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
}

var (
	merchantKey = sync.OnceValue(genKey)
	platformKey = sync.OnceValue(genKey)
	otherKey    = sync.OnceValue(genKey)
)

// testConfig is a channel configuration for version (2 or 3) aimed at base.
func testConfig(version int, base string) Config {
	cfg := Config{AppID: testAppID, MchID: testMchID, APIVersion: version, BaseURL: base}
	if version == 3 {
		cfg.APIv3Key = testAPIv3Key
		cfg.PrivateKey = merchantKey()
		cfg.SerialNo = testMerchantSerial
		cfg.PlatformKeys = map[string]*rsa.PublicKey{testPlatformSerial: &platformKey().PublicKey}
	} else {
		cfg.APIKey = testAPIKey
	}
	return cfg
}

func newTestWeChat(t *testing.T, cfg Config) *WeChat {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// world is cashier's side (the channel and its notify endpoint) and the
// WeChat Pay simulator, on one loopback server.
type world struct {
	t       *testing.T
	sandbox *wechatsim.WeChat
	srv     *httptest.Server
	ch      *WeChat

	mu    sync.Mutex
	calls []call // what the channel sent to the simulator

	sandboxtest.NotifyEndpoint
}

type call struct {
	path   string
	header http.Header
	body   []byte
}

// newWorld starts the simulator and a channel of version aimed at it;
// adjust changes the channel's configuration.
func newWorld(t *testing.T, version int, signType string, adjust ...func(*Config)) *world {
	t.Helper()
	w := &world{t: t}
	w.sandbox = &wechatsim.WeChat{
		AppID:          testAppID,
		MchID:          testMchID,
		APIKey:         testAPIKey,
		SignType:       signType,
		APIv3Key:       testAPIv3Key,
		MerchantKey:    &merchantKey().PublicKey,
		PlatformKey:    platformKey(),
		PlatformSerial: testPlatformSerial,
	}
	mux := http.NewServeMux()
	w.sandbox.Register(mux)
	mux.Handle("POST /notify/wechat", &w.NotifyEndpoint)
	w.srv = httptest.NewServer(w.record(mux))
	t.Cleanup(w.srv.Close)
	w.sandbox.HTTPClient = w.srv.Client()

	cfg := testConfig(version, w.srv.URL+"/sandbox/wechat")
	cfg.SignType = signType
	cfg.HTTPClient = w.srv.Client()
	for _, f := range adjust {
		f(&cfg)
	}
	w.ch = newTestWeChat(t, cfg)
	w.NotifyEndpoint.T, w.NotifyEndpoint.Verifier = t, w.ch
	return w
}

// record keeps a copy of each call to the simulator's API.
func (w *world) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sandbox/wechat/pay/") || strings.HasPrefix(r.URL.Path, "/sandbox/wechat/v3/") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			w.mu.Lock()
			w.calls = append(w.calls, call{path: r.URL.RequestURI(), header: r.Header.Clone(), body: body})
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *world) lastCall() call {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.calls) == 0 {
		w.t.Fatal("no call reached the simulator")
	}
	return w.calls[len(w.calls)-1]
}

// pay asks the simulator to pay (or fail) a trade and returns its answer.
func (w *world) pay(outTradeNo, result string) (int, map[string]any) {
	w.t.Helper()
	resp, err := w.srv.Client().PostForm(w.srv.URL+"/sandbox/wechat/pay", map[string][]string{
		"out_trade_no": {outTradeNo}, "result": {result},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		w.t.Fatalf("pay answer: %v", err)
	}
	return resp.StatusCode, ans
}

// request is prepareRequest with the world's own notify endpoint, so that
// notifications stay on loopback.
func (w *world) request(gateway, outTradeNo string) cashier.PrepareRequest {
	req := prepareRequest(gateway, outTradeNo)
	req.NotifyURL = w.srv.URL + "/notify/wechat"
	return req
}

func prepareRequest(gateway, outTradeNo string) cashier.PrepareRequest {
	now := time.Now().Truncate(time.Second)
	return cashier.PrepareRequest{
		Gateway:    gateway,
		OutTradeNo: outTradeNo,
		Amount:     1234,
		Subject:    "至尊20天礼包 <VIP> & more",
		Now:        now,
		ExpiresAt:  now.Add(30 * time.Minute),
		ClientIP:   "203.0.113.7",
		NotifyURL:  "http://127.0.0.1:9/api/v1/order/notify/wechat", // never called
	}
}

// The tests sign, verify and encrypt with the standard library and their
// own signing strings, independently of the gopay code the channel uses;
// the vectors pin both to third parties' implementations.

// testSignV2 is the v2 signature: non-empty fields but sign, sorted,
// "k=v&…&key=API_KEY", MD5 or HMAC-SHA256 keyed with the API key, upper hex.
func testSignV2(fields map[string]string, key, signType string) string {
	var keys []string
	for k, v := range fields {
		if v != "" && k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + fields[k] + "&")
	}
	b.WriteString("key=" + key)
	var h hash.Hash = md5.New()
	if signType == SignTypeHMACSHA256 {
		h = hmac.New(sha256.New, []byte(key))
	}
	h.Write([]byte(b.String()))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// testXML encodes v2 fields the way WeChat Pay sends them.
func testXML(fields map[string]string) []byte {
	var b strings.Builder
	b.WriteString("<xml>\n")
	for k, v := range fields {
		b.WriteString("  <" + k + "><![CDATA[" + v + "]]></" + k + ">\n")
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}

// testParseXML decodes a flat v2 XML message.
func testParseXML(t *testing.T, body []byte) map[string]string {
	t.Helper()
	bm, err := parseV2(body)
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	out := map[string]string{}
	for k := range bm {
		out[k] = bm.GetString(k)
	}
	return out
}

func testRSASign(t *testing.T, key *rsa.PrivateKey, msg string) string {
	t.Helper()
	digest := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func testRSAVerify(pub *rsa.PublicKey, msg, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(msg))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
}

// testSeal encrypts a v3 resource: AES-GCM, the tag after the ciphertext.
func testSeal(t *testing.T, key, nonce, aad, plain string) string {
	t.Helper()
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), []byte(plain), []byte(aad)))
}

// testV3Headers signs body as WeChat Pay signs answers and notifications.
func testV3Headers(t *testing.T, key *rsa.PrivateKey, serial string, at time.Time, body []byte) map[string][]string {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := "a9d5fPYAcUfEV7sOC3mm53Gb1hCPoKpq"
	return map[string][]string{
		"Wechatpay-Timestamp":      {ts},
		"Wechatpay-Nonce":          {nonce},
		"Wechatpay-Serial":         {serial},
		"Wechatpay-Signature":      {testRSASign(t, key, ts+"\n"+nonce+"\n"+string(body)+"\n")},
		"Wechatpay-Signature-Type": {"WECHATPAY2-SHA256-RSA2048"},
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := cashier.ErrorCode(err); got != code {
		t.Fatalf("error code %q, want %q (err: %v)", got, code, err)
	}
	var ce *cashier.Error
	if code != "" && !errors.As(err, &ce) {
		t.Fatalf("not a *cashier.Error: %v", err)
	}
}

// wantChannelError checks that err is ECHANNEL, with a message that says
// what happened and no secret.
func wantChannelError(t *testing.T, err error, contains string) {
	t.Helper()
	wantCode(t, err, cashier.ECHANNEL)
	msg := cashier.ErrorMessage(err)
	t.Logf("message: %s", msg)
	if !strings.Contains(msg, contains) {
		t.Errorf("message %q does not say %q", msg, contains)
	}
	for _, secret := range []string{testAPIKey, testAPIv3Key} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q carries a key", err)
		}
	}
}
