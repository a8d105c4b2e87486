// Package pemkey reads and writes RSA key material in the shapes merchants get
// it from payment channel consoles: PEM files, or the bare base64 of the DER
// that consoles show in a text box.
//
// Errors never include the key material itself, so that they can be logged.
package pemkey

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseRSAPrivateKey parses an RSA private key given as PEM ("RSA PRIVATE KEY"
// for PKCS#1, "PRIVATE KEY" for PKCS#8) or as the bare base64 of a PKCS#1 or
// PKCS#8 DER encoding. Whitespace, including line breaks inside the base64, is
// ignored.
func ParseRSAPrivateKey(data []byte) (*rsa.PrivateKey, error) {
	ders, err := decodeMaterial(data, "RSA PRIVATE KEY", "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("pemkey: private key: %w", err)
	}
	for _, der := range ders {
		if key, err := x509.ParsePKCS1PrivateKey(der.bytes); err == nil {
			return key, nil
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der.bytes)
		if err != nil {
			continue
		}
		key, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("pemkey: private key: a %T, not an RSA key", parsed)
		}
		return key, nil
	}
	return nil, errors.New("pemkey: private key: neither a PKCS#1 nor a PKCS#8 RSA private key")
}

// ParseRSAPublicKey parses an RSA public key given as PEM ("PUBLIC KEY" for
// PKIX, "RSA PUBLIC KEY" for PKCS#1, or "CERTIFICATE", whose key is taken) or
// as the bare base64 of the same DER encodings.
func ParseRSAPublicKey(data []byte) (*rsa.PublicKey, error) {
	ders, err := decodeMaterial(data, "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE")
	if err != nil {
		return nil, fmt.Errorf("pemkey: public key: %w", err)
	}
	for _, der := range ders {
		var parsed any
		if key, err := x509.ParsePKCS1PublicKey(der.bytes); err == nil {
			parsed = key
		} else if key, err := x509.ParsePKIXPublicKey(der.bytes); err == nil {
			parsed = key
		} else if cert, err := x509.ParseCertificate(der.bytes); err == nil {
			parsed = cert.PublicKey
		} else {
			continue
		}
		key, ok := parsed.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("pemkey: public key: a %T, not an RSA key", parsed)
		}
		return key, nil
	}
	return nil, errors.New("pemkey: public key: neither a PKIX or PKCS#1 RSA public key nor a certificate")
}

// der is one DER encoding found in the input; blockType is empty for bare base64.
type der struct {
	blockType string
	bytes     []byte
}

// decodeMaterial returns the DER encodings in data: the PEM blocks of the
// given types when data is PEM, else the base64 decoding of data.
func decodeMaterial(data []byte, types ...string) ([]der, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty input")
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var found []der
		var seen []string
		for rest := data; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			seen = append(seen, block.Type)
			if _, encrypted := block.Headers["DEK-Info"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
				return nil, errors.New("encrypted keys are not supported; decrypt the key first")
			}
			for _, t := range types {
				if block.Type == t {
					found = append(found, der{blockType: block.Type, bytes: block.Bytes})
				}
			}
		}
		if len(found) == 0 {
			if len(seen) == 0 {
				return nil, errors.New("malformed PEM")
			}
			return nil, fmt.Errorf("no PEM block of type %q (found %q)", types, seen)
		}
		return found, nil
	}
	compact := bytes.Join(bytes.Fields(data), nil)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		out := make([]byte, enc.DecodedLen(len(compact)))
		if n, err := enc.Decode(out, compact); err == nil {
			return []der{{bytes: out[:n]}}, nil
		}
	}
	// The base64 error says where decoding failed, which would hint at the
	// content; a plain message is enough to act on.
	return nil, errors.New("neither PEM nor base64")
}
