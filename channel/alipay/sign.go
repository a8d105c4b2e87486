package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"

	"github.com/go-pay/gopay"
)

// signingString is the text Alipay's RSA2 signature covers: every parameter
// but the excluded ones, empty values dropped, keys sorted by byte order, raw
// (unencoded) values, "k=v" joined by "&". Requests exclude only "sign";
// notifications and returns exclude "sign" and "sign_type".
func signingString(params map[string]string, exclude ...string) string {
	bm := make(gopay.BodyMap, len(params))
	for k, v := range params {
		if !slices.Contains(exclude, k) {
			bm.Set(k, v)
		}
	}
	return bm.EncodeAliPaySignParams()
}

// signRSA2 is SHA256withRSA (PKCS#1 v1.5) in standard base64.
func signRSA2(key *rsa.PrivateKey, content string) (string, error) {
	digest := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

var errBadSignature = errors.New("signature does not verify")

func verifyRSA2(pub *rsa.PublicKey, content []byte, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return errBadSignature
	}
	digest := sha256.Sum256(content)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return errBadSignature
	}
	return nil
}

// signParams adds "sign" to params, signed with the app key.
func (a *Alipay) signParams(params map[string]string) error {
	sig, err := signRSA2(a.key, signingString(params, "sign"))
	if err != nil {
		return err
	}
	params["sign"] = sig
	return nil
}

// encodeParams URL-encodes params, keys sorted, for the app order string and
// the page/wap URL query.
func encodeParams(params map[string]string) string {
	bm := make(gopay.BodyMap, len(params))
	for k, v := range params {
		bm.Set(k, v)
	}
	return bm.EncodeURLParams()
}
