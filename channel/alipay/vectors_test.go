package alipay

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/go-pay/gopay"
	gopayalipay "github.com/go-pay/gopay/alipay"
)

func TestRequestSignVector(t *testing.T) {
	var v struct {
		Params        map[string]string `json:"params"`
		SigningString string            `json:"signing_string"`
		Sign          string            `json:"sign"`
	}
	if err := json.Unmarshal(readVector(t, "alipay_request_sign.json"), &v); err != nil {
		t.Fatal(err)
	}
	key := vectorAppKey(t)
	// The tests' own signing string, which they verify the channel's
	// requests with.
	if got := testSigningString(v.Params, "sign"); got != v.SigningString {
		t.Fatalf("test signing string\n got %s\nwant %s", got, v.SigningString)
	}
	if err := verifyRequest(&key.PublicKey, mergeSign(v.Params, v.Sign)); err != nil {
		t.Fatalf("vector sign does not verify: %v", err)
	}
	// gopay's, which the channel signs with. PKCS#1 v1.5 is deterministic.
	bm := make(gopay.BodyMap)
	for k, val := range v.Params {
		bm.Set(k, val)
	}
	if got := bm.EncodeAliPaySignParams(); got != v.SigningString {
		t.Fatalf("gopay signing string\n got %s\nwant %s", got, v.SigningString)
	}
	sign, err := gopayalipay.GetRsaSign(bm, gopayalipay.RSA2, key)
	if err != nil {
		t.Fatal(err)
	}
	if sign != v.Sign {
		t.Fatalf("sign\n got %s\nwant %s", sign, v.Sign)
	}
}

func mergeSign(params map[string]string, sign string) map[string]string {
	p := maps.Clone(params)
	p["sign"] = sign
	return p
}

func TestCertSNVector(t *testing.T) {
	var v struct {
		Cases []struct {
			CertFile string `json:"cert_file"`
			SN       string `json:"sn"`
			RootSN   string `json:"root_sn"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readVector(t, "alipay_cert_sn.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range v.Cases {
		data := readVector(t, c.CertFile)
		if c.SN != "" {
			got, err := CertSN(data)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.SN {
				t.Errorf("%s: SN %s, want %s", c.CertFile, got, c.SN)
			}
		}
		if c.RootSN != "" {
			got, err := RootCertSN(data)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.RootSN {
				t.Errorf("%s: root SN %s, want %s", c.CertFile, got, c.RootSN)
			}
		}
	}
}
