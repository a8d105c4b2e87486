package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"

	"github.com/go-pay/gopay"
	gopayalipay "github.com/go-pay/gopay/alipay"
)

const alipayTimeLayout = "2006-01-02 15:04:05"

// bodyMap copies params but the excluded ones into a gopay BodyMap, whose
// EncodeAliPaySignParams is the text Alipay's RSA2 signatures cover: empty
// values dropped, sorted, raw "k=v" joined by "&".
//
// cashier's channel signs with gopay too, so the simulator does not check
// gopay's signing string independently; channel/alipay's vector test pins it
// to a third party's implementation.
func bodyMap(params map[string]string, exclude ...string) gopay.BodyMap {
	bm := make(gopay.BodyMap, len(params))
	for k, v := range params {
		if !slices.Contains(exclude, k) {
			bm.Set(k, v)
		}
	}
	return bm
}

// signSHA256 signs raw bytes, as Alipay signs its gateway answers: gopay, a
// client library, has no function for that.
func signSHA256(key *rsa.PrivateKey, content []byte) (string, error) {
	digest := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// singleValues flattens form values, refusing repeated parameters, which
// Alipay's gateway does not accept either.
func singleValues(values url.Values) (map[string]string, error) {
	params := make(map[string]string, len(values))
	for k, vs := range values {
		if len(vs) != 1 {
			return nil, fmt.Errorf("parameter %q is repeated", k)
		}
		params[k] = vs[0]
	}
	return params, nil
}

// Sub-codes the simulated gateway answers with, Alipay's own.
const (
	subInvalidSignature = "isv.invalid-signature"
	subInvalidAppID     = "isv.invalid-app-id"
	subInvalidParameter = "isv.invalid-parameter"
	subInvalidMethod    = "isv.invalid-method"
)

// refusal is a request the simulated Alipay turns down: subCode for the API's
// sub_code, reason for people.
type refusal struct {
	subCode string
	reason  string
}

func (r *refusal) Error() string { return r.reason }

// verifyAppRequest checks a request signed by cashier the way Alipay does:
// RSA2 over every parameter but sign (sign_type included), and the app id.
func (a *Alipay) verifyAppRequest(params map[string]string) *refusal {
	if params["sign"] == "" {
		return &refusal{subInvalidSignature, "missing sign"}
	}
	if params["sign_type"] != "RSA2" {
		return &refusal{subInvalidSignature, fmt.Sprintf("sign_type %q is not supported, use RSA2", params["sign_type"])}
	}
	// Unlike notifications, requests are signed over sign_type too, so
	// gopay's VerifySign (which drops it) does not fit; VerifySyncSign is its
	// plain RSA2 check of a given text with a base64 public key.
	pub, err := x509.MarshalPKIXPublicKey(a.AppPublicKey)
	if err != nil {
		return &refusal{subInvalidSignature, "the sandbox's app public key is unusable"}
	}
	signData := bodyMap(params, "sign").EncodeAliPaySignParams()
	if ok, err := gopayalipay.VerifySyncSign(base64.StdEncoding.EncodeToString(pub), signData, params["sign"]); err != nil || !ok {
		return &refusal{subInvalidSignature, "sign does not verify with the app public key"}
	}
	if params["app_id"] != a.AppID {
		return &refusal{subInvalidAppID, fmt.Sprintf("app_id %q is not the sandbox app", params["app_id"])}
	}
	if cs := params["charset"]; cs != "" && cs != "utf-8" && cs != "UTF-8" {
		return &refusal{subInvalidParameter, fmt.Sprintf("charset %q is not supported, use utf-8", cs)}
	}
	return nil
}

// signPlatform adds sign_type and sign to params the way Alipay signs
// notifications and returns: over every parameter but sign and sign_type.
func (a *Alipay) signPlatform(params map[string]string) error {
	sig, err := gopayalipay.GetRsaSign(bodyMap(params, "sign", "sign_type"), gopayalipay.RSA2, a.PlatformKey)
	if err != nil {
		return err
	}
	params["sign_type"] = "RSA2"
	params["sign"] = sig
	return nil
}
