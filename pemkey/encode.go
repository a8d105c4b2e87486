package pemkey

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
)

// EncodePrivatePEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block. It panics
// if key cannot be marshalled, which happens only for a key that is not a
// usable RSA key (a programming error, not an input error).
func EncodePrivatePEM(key *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("pemkey: encode private key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EncodePublicPEM encodes key as a PKIX "PUBLIC KEY" PEM block. It panics if
// key cannot be marshalled, which happens only for an invalid key.
func EncodePublicPEM(key *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		panic("pemkey: encode public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
