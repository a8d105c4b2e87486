package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"cashier"
	"cashier/pemkey"
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

func genKey() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
}

var (
	appKey      = sync.OnceValue(genKey)
	platformKey = sync.OnceValue(genKey)
	otherKey    = sync.OnceValue(genKey)
)

const (
	testAppID    = "2021000000000001"
	testSellerID = "2088000000000001"
	testGateway  = "https://openapi.example.test/gateway.do"
)

func testConfig() Config {
	return Config{
		AppID:           testAppID,
		PrivateKey:      appKey(),
		AlipayPublicKey: &platformKey().PublicKey,
		SellerID:        testSellerID,
		GatewayURL:      testGateway,
	}
}

// vectorAppKey is the app private key of the vectors, which their app
// certificate certifies.
func vectorAppKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	key, err := pemkey.ParseRSAPrivateKey(readVector(t, "alipay_app_private_key.b64der.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// certConfig is testConfig in certificate mode: the vectors' app key, app
// certificate and root certificate (whose SNs are known), and platformCert
// as the Alipay public certificate.
func certConfig(t *testing.T, platformCert []byte) Config {
	t.Helper()
	cfg := testConfig()
	cfg.PrivateKey = vectorAppKey(t)
	cfg.AlipayPublicKey = nil
	cfg.AppCert = readVector(t, "alipay_app_public_cert.crt")
	cfg.AlipayRootCert = readVector(t, "alipay_root_cert.crt")
	cfg.AlipayPublicCert = platformCert
	return cfg
}

func newTestAlipay(t *testing.T, cfg Config) *Alipay {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The tests sign and verify with the standard library and their own signing
// string, independently of the gopay code the channel uses; the request
// signature vector pins both to a third party's implementation.

// testSigningString is the text of Alipay's RSA2 signatures: all params but
// the excluded ones, empty values dropped, sorted by key, raw "k=v" joined by "&".
func testSigningString(params map[string]string, exclude ...string) string {
	var keys []string
	for k, v := range params {
		if v != "" && !slices.Contains(exclude, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params[k])
	}
	return b.String()
}

func testSign(t *testing.T, key *rsa.PrivateKey, content string) string {
	t.Helper()
	digest := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func testVerify(pub *rsa.PublicKey, content, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(content))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
}

// verifyRequest checks a request signature the way Alipay does: over every
// parameter but sign, sign_type included.
func verifyRequest(pub *rsa.PublicKey, params map[string]string) error {
	return testVerify(pub, testSigningString(params, "sign"), params["sign"])
}

// signAs signs params the way Alipay signs notifications (all but sign and
// sign_type) and returns them form-encoded.
func signAs(t *testing.T, key *rsa.PrivateKey, params map[string]string) string {
	t.Helper()
	sig := testSign(t, key, testSigningString(params, "sign", "sign_type"))
	v := url.Values{}
	for k, val := range params {
		v.Set(k, val)
	}
	v.Set("sign", sig)
	return v.Encode()
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
