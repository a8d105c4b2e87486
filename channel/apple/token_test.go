package apple

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The built-in root is Apple Root CA - G3, by its published fingerprint.
func TestRootIsApples(t *testing.T) {
	root, err := readRoot("")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(root.Raw)
	if got := strings.ToUpper(hex.EncodeToString(sum[:])); got != "63343ABFB89A6A03EBB57E9B3F5FA7BE7C4F5C756F3017B3A8C488C3653E9179" {
		t.Errorf("root fingerprint %s", got)
	}
	if root.Subject.CommonName != "Apple Root CA - G3" {
		t.Errorf("root %s", root.Subject)
	}
}

// An appAccountToken is a UUID (version 8) that names its attempt, in any
// case StoreKit gives it back.
func TestAccountToken(t *testing.T) {
	otn := "APL202612021234560123456789"
	token, err := AccountToken(otn)
	if err != nil {
		t.Fatal(err)
	}
	u, err := uuid.Parse(token)
	if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("%s is not a UUID v8: %v", token, err)
	}
	for _, tk := range []string{token, strings.ToUpper(token)} {
		if got, err := outTradeNoOf(tk); err != nil || got != otn {
			t.Errorf("outTradeNoOf(%s) = %s, %v", tk, got, err)
		}
	}
	for _, bad := range []string{"ALI202612021234560123456789", "APL2026120212345601234567", "APL20261202123456012345678x"} {
		if _, err := AccountToken(bad); err == nil {
			t.Errorf("AccountToken(%q) made a token", bad)
		}
	}
	for _, bad := range []string{"", "7d3f2a9c-1b4e-4f6a-9c2d-5e8f7a6b3c1d", strings.Replace(token, "0", "a", 1), token + "0"} {
		if _, err := outTradeNoOf(bad); err == nil {
			t.Errorf("outTradeNoOf(%q) named an attempt", bad)
		}
	}
}
