package alipay

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"cashier"
)

// vectorsDir is the project's shared test vectors, beside the repository.
const vectorsDir = "../../../shared/vectors"

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

func newTestAlipay(t *testing.T, cfg Config) *Alipay {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// signAs signs params the way Alipay signs notifications (all but sign and
// sign_type) and returns them form-encoded.
func signAs(t *testing.T, key *rsa.PrivateKey, params map[string]string) string {
	t.Helper()
	sig, err := signRSA2(key, signingString(params, "sign", "sign_type"))
	if err != nil {
		t.Fatal(err)
	}
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
