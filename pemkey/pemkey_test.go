package pemkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
})

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// wrapped is base64 broken into lines with stray spaces, as pasted from a console.
func wrapped(der []byte) []byte {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	b.WriteString("  \n")
	for len(s) > 64 {
		b.WriteString(s[:64] + " \r\n")
		s = s[64:]
	}
	b.WriteString(s + "\n\t")
	return []byte(b.String())
}

func TestParseRSAPrivateKeyFormats(t *testing.T) {
	key := testKey()
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"PEM PKCS#1":             pemOf("RSA PRIVATE KEY", pkcs1),
		"PEM PKCS#8":             pemOf("PRIVATE KEY", pkcs8),
		"EncodePrivatePEM":       EncodePrivatePEM(key),
		"base64 PKCS#1":          []byte(base64.StdEncoding.EncodeToString(pkcs1)),
		"base64 PKCS#8":          []byte(base64.StdEncoding.EncodeToString(pkcs8)),
		"base64 wrapped":         wrapped(pkcs8),
		"base64 unpadded":        []byte(base64.RawStdEncoding.EncodeToString(pkcs1)),
		"PEM after other blocks": append(pemOf("CERTIFICATE", []byte{1, 2, 3}), pemOf("PRIVATE KEY", pkcs8)...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRSAPrivateKey(data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Fatal("parsed key differs from the original")
			}
		})
	}
}

func TestParseRSAPrivateKeyVector(t *testing.T) {
	data, err := os.ReadFile("testdata/alipay_app_private_key.b64der.txt")
	if err != nil {
		t.Skipf("vector not available: %v", err)
	}
	key, err := ParseRSAPrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile("testdata/alipay_app_public_cert.crt")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParseRSAPublicKey(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	// The vector's app certificate certifies the vector's app key.
	if !pub.Equal(&key.PublicKey) {
		t.Fatal("certificate key does not match the private key")
	}
}

func selfSigned(t *testing.T, key any, pub any) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "pemkey test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseRSAPublicKeyFormats(t *testing.T) {
	key := testKey()
	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	cert := selfSigned(t, key, &key.PublicKey)
	cases := map[string][]byte{
		"PEM PKIX":         pemOf("PUBLIC KEY", pkix),
		"PEM PKCS#1":       pemOf("RSA PUBLIC KEY", pkcs1),
		"PEM certificate":  pemOf("CERTIFICATE", cert),
		"EncodePublicPEM":  EncodePublicPEM(&key.PublicKey),
		"base64 PKIX":      []byte(base64.StdEncoding.EncodeToString(pkix)),
		"base64 PKCS#1":    []byte(base64.StdEncoding.EncodeToString(pkcs1)),
		"base64 cert":      wrapped(cert),
		"base64 wrapped":   wrapped(pkix),
		"PEM with comment": append([]byte("Alipay public key\n"), pemOf("PUBLIC KEY", pkix)...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRSAPublicKey(data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&key.PublicKey) {
				t.Fatal("parsed key differs from the original")
			}
		})
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKCS8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPKIX, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := EncodePublicPEM(&testKey().PublicKey)
	const secret = "c2VjcmV0LWtleS1ieXRlcw" // must never show in an error
	garbage := map[string][]byte{
		"empty":              nil,
		"blank":              []byte(" \n\t "),
		"text":               []byte("not a key at all!"),
		"base64 of junk":     []byte(base64.StdEncoding.EncodeToString([]byte("junk junk junk"))),
		"bad base64":         []byte(secret + "!!"),
		"truncated PEM":      []byte("-----BEGIN PRIVATE KEY-----\n" + secret + "\n"),
		"EC PKCS#8":          pemOf("PRIVATE KEY", ecPKCS8),
		"EC public":          pemOf("PUBLIC KEY", ecPKIX),
		"EC cert":            pemOf("CERTIFICATE", selfSigned(t, ec, &ec.PublicKey)),
		"PEM of junk":        pemOf("PRIVATE KEY", []byte(secret)),
		"encrypted PEM":      pemOf("ENCRYPTED PRIVATE KEY", []byte(secret)),
		"public as private":  pubPEM,
		"private as public?": EncodePrivatePEM(testKey()),
	}
	for name, data := range garbage {
		t.Run(name, func(t *testing.T) {
			priv, errPriv := ParseRSAPrivateKey(data)
			pub, errPub := ParseRSAPublicKey(data)
			switch name {
			case "public as private":
				if errPriv == nil {
					t.Fatal("a public key parsed as a private key")
				}
				return
			case "private as public?":
				if errPub == nil {
					t.Fatal("a private key parsed as a public key")
				}
				return
			}
			if errPriv == nil || priv != nil {
				t.Error("ParseRSAPrivateKey accepted garbage")
			}
			if errPub == nil || pub != nil {
				t.Error("ParseRSAPublicKey accepted garbage")
			}
			for _, err := range []error{errPriv, errPub} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks input: %v", err)
				}
			}
		})
	}
}

func TestEnsureRSAKeyPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sandbox")
	key, err := EnsureRSAKeyPair(dir, "alipay_app", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Fatalf("key has %d bits", key.N.BitLen())
	}
	for path, mode := range map[string]os.FileMode{
		dir: 0o700 | os.ModeDir,
		filepath.Join(dir, "alipay_app_private.pem"): 0o600,
		filepath.Join(dir, "alipay_app_public.pem"):  0o644,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	pubData, err := os.ReadFile(filepath.Join(dir, "alipay_app_public.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParseRSAPublicKey(pubData)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&key.PublicKey) {
		t.Fatal("public file does not hold the key's public half")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (no temporary files left)", len(entries))
	}

	// A second call loads the same key, and rewrites a lost public file.
	if err := os.Remove(filepath.Join(dir, "alipay_app_public.pem")); err != nil {
		t.Fatal(err)
	}
	again, err := EnsureRSAKeyPair(dir, "alipay_app", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(key) {
		t.Fatal("second call returned a different key")
	}
	if _, err := os.Stat(filepath.Join(dir, "alipay_app_public.pem")); err != nil {
		t.Fatal("public file not rewritten:", err)
	}
}

func TestEnsureRSAKeyPairErrors(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", "..", "a/b", `a\b`} {
		if _, err := EnsureRSAKeyPair(dir, name, 2048); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	const junk = "this-is-not-a-key"
	if err := os.WriteFile(filepath.Join(dir, "bad_private.pem"), []byte(junk), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := EnsureRSAKeyPair(dir, "bad", 2048)
	if err == nil {
		t.Fatal("corrupt private key file accepted")
	}
	if strings.Contains(err.Error(), junk) {
		t.Errorf("error leaks file content: %v", err)
	}
	if _, err := EnsureRSAKeyPair(dir, "tiny", 512); err == nil {
		t.Error("512-bit key generated")
	}
}
