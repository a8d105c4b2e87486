package alipay

import (
	"encoding/json"
	"testing"

	"cashier/pemkey"
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
	key, err := pemkey.ParseRSAPrivateKey(readVector(t, "alipay_app_private_key.b64der.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := signingString(v.Params, "sign"); got != v.SigningString {
		t.Fatalf("signing string\n got %s\nwant %s", got, v.SigningString)
	}
	a := &Alipay{key: key}
	params := v.Params
	if err := a.signParams(params); err != nil {
		t.Fatal(err)
	}
	if params["sign"] != v.Sign {
		t.Fatalf("sign\n got %s\nwant %s", params["sign"], v.Sign)
	}
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
