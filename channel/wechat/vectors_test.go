package wechat

import (
	"encoding/json"
	"testing"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"
	gopaywechat3 "github.com/go-pay/gopay/wechat/v3"
)

func TestV2SignVectors(t *testing.T) {
	var v struct {
		Cases []struct {
			Fields     map[string]string `json:"fields"`
			Key        string            `json:"key"`
			MD5        string            `json:"md5"`
			HMACSHA256 string            `json:"hmac_sha256"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readVector(t, "wechat_v2_sign.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range v.Cases {
		for _, st := range []struct{ signType, want string }{
			{SignTypeMD5, c.MD5},
			{SignTypeHMACSHA256, c.HMACSHA256},
		} {
			if st.want == "" {
				continue
			}
			// The tests' own signer, which they check the channel with.
			if got := testSignV2(c.Fields, c.Key, st.signType); got != st.want {
				t.Errorf("case %d %s: test signer %s, want %s", i, st.signType, got, st.want)
			}
			// gopay's, which the channel signs requests and re-signs with.
			bm := make(gopay.BodyMap)
			for k, val := range c.Fields {
				bm.Set(k, val)
			}
			if got := gopaywechat.GetReleaseSign(c.Key, st.signType, bm); got != st.want {
				t.Errorf("case %d %s: gopay %s, want %s", i, st.signType, got, st.want)
			}
			// The channel's verification of answers and notifications.
			w := &WeChat{apiKey: c.Key}
			bm.Set("sign", st.want)
			if err := w.verifyV2(bm, st.signType); err != nil {
				t.Errorf("case %d %s: vector does not verify: %v", i, st.signType, err)
			}
			if bm.GetString("sign") != st.want {
				t.Errorf("case %d: verifyV2 changed its input", i)
			}
			other := SignTypeHMACSHA256
			if st.signType == other {
				other = SignTypeMD5
			}
			if err := w.verifyV2(bm, other); err == nil {
				t.Errorf("case %d: %s sign verifies as %s", i, st.signType, other)
			}
			for k := range c.Fields {
				tampered := make(gopay.BodyMap)
				for k2, val := range bm {
					tampered[k2] = val
				}
				tampered.Set(k, c.Fields[k]+"x")
				if err := w.verifyV2(tampered, st.signType); err == nil {
					t.Errorf("case %d %s: verifies with %s tampered", i, st.signType, k)
				}
			}
		}
	}
}

func TestV3DecryptVector(t *testing.T) {
	var v struct {
		Key            string `json:"key"`
		Nonce          string `json:"nonce"`
		AssociatedData string `json:"associated_data"`
		Ciphertext     string `json:"ciphertext"`
		Plaintext      string `json:"plaintext"`
	}
	if err := json.Unmarshal(readVector(t, "wechat_v3_aesgcm.json"), &v); err != nil {
		t.Fatal(err)
	}
	// The tests' own sealing, which they build notifications with.
	if got := testSeal(t, v.Key, v.Nonce, v.AssociatedData, v.Plaintext); got != v.Ciphertext {
		t.Errorf("test seal %s, want %s", got, v.Ciphertext)
	}
	res := &gopaywechat3.Resource{Ciphertext: v.Ciphertext, Nonce: v.Nonce, AssociatedData: v.AssociatedData}
	plain, err := decryptResource(res, v.Key)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != v.Plaintext {
		t.Errorf("plaintext %q, want %q", plain, v.Plaintext)
	}
	for name, bad := range map[string]*gopaywechat3.Resource{
		"associated data": {Ciphertext: v.Ciphertext, Nonce: v.Nonce, AssociatedData: v.AssociatedData + "x"},
		"nonce":           {Ciphertext: v.Ciphertext, Nonce: "xCq51qZv4Yfg", AssociatedData: v.AssociatedData},
		"short nonce":     {Ciphertext: v.Ciphertext, Nonce: "wCq51", AssociatedData: v.AssociatedData},
		"ciphertext":      {Ciphertext: "A" + v.Ciphertext[1:], Nonce: v.Nonce, AssociatedData: v.AssociatedData},
	} {
		if _, err := decryptResource(bad, v.Key); err == nil {
			t.Errorf("decrypts with a wrong %s", name)
		}
	}
	if _, err := decryptResource(res, "testAPIv3Key0001"); err == nil {
		t.Error("decrypts with a wrong key")
	}
}
