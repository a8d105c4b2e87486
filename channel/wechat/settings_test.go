package wechat

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cashier/pemkey"
)

// Platform certificates are keyed by their serial in upper-case hex, as the
// Wechatpay-Serial header names them; the public key by its id.
func TestWeChatPlatformKeys(t *testing.T) {
	dir := t.TempDir()
	certKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := new(big.Int).SetString("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", 16)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Tenpay.com Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &certKey.PublicKey, certKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "wechatpay_5157.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	pubKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubFile := filepath.Join(dir, "pub_key.pem")
	os.WriteFile(pubFile, pemkey.EncodePublicPEM(&pubKey.PublicKey), 0o600)

	keys, err := platformKeys(&Settings{PlatformCertFiles: []string{certFile}, PublicKeyFile: pubFile, PublicKeyID: "PUB_KEY_ID_01"})
	if err != nil {
		t.Fatal(err)
	}
	if k := keys["5157F09EFDC096DE15EBE81A47057A7232F1B8E1"]; k == nil || !k.Equal(&certKey.PublicKey) {
		t.Errorf("certificate key by serial: %v", keys)
	}
	if k := keys["PUB_KEY_ID_01"]; k == nil || !k.Equal(&pubKey.PublicKey) {
		t.Errorf("public key by id: %v", keys)
	}
	if _, err := platformKeys(&Settings{PlatformCertFiles: []string{pubFile}}); err == nil {
		t.Error("a public key file accepted as a certificate")
	}
	if _, err := platformKeys(&Settings{PlatformCertFiles: []string{filepath.Join(dir, "missing.pem")}}); err == nil {
		t.Error("a missing certificate accepted")
	}
}

// A bad WeChat configuration is refused at start, all problems at once.
func TestWeChatConfigCheck(t *testing.T) {
	cases := []struct {
		cfg  Settings
		fail bool
	}{
		{Settings{Sandbox: true, APIVersion: 3}, false},
		{Settings{Sandbox: true, APIVersion: 4}, true},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 2, APIKeyFile: "k"}, false},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 2}, true},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 2, APIKeyFile: "k", SignType: "SHA1"}, true},
		{Settings{MchID: "1", APIVersion: 2, APIKeyFile: "k"}, true},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 2, APIKeyFile: "k", ClientCertFile: "c"}, true},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 2, APIKeyFile: "k", ClientCertFile: "c", ClientKeyFile: "k"}, false},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 3, APIv3KeyFile: "k", PrivateKeyFile: "p", SerialNo: "s", PublicKeyFile: "f", PublicKeyID: "PUB_KEY_ID_1"}, false},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 3, APIv3KeyFile: "k", PrivateKeyFile: "p", SerialNo: "s"}, true},
		{Settings{AppID: "wx", MchID: "1", APIVersion: 3, PrivateKeyFile: "p", SerialNo: "s", PlatformCertFiles: []string{"c"}}, true},
	}
	for i, c := range cases {
		c.cfg.Defaults()
		if errs := c.cfg.Check(); (len(errs) > 0) != c.fail {
			t.Errorf("case %d (%+v): %v, want failure %v", i, c.cfg, errs, c.fail)
		}
	}
}
