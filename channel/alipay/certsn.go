package alipay

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	gopayalipay "github.com/go-pay/gopay/alipay"
)

// CertSN returns the Alipay SN of the first certificate in pemData (the
// app_cert_sn of an app certificate): the hex MD5 of the issuer DN followed by
// the decimal serial number, as gopay's GetCertSN computes it.
//
// gopay writes the issuer DN with Go's pkix.Name.String, which puts the
// standard attributes in a fixed order rather than the certificate's own
// (Alipay's Java SDK uses X500Principal.getName). The two agree for Alipay's
// certificates, whose issuers are in the usual C, O, OU, CN order: the test
// vectors pin this.
func CertSN(pemData []byte) (string, error) {
	cert, err := parseCert(pemData)
	if err != nil {
		return "", err
	}
	// GetCertSN reads the first PEM block, and a string argument would be a
	// file path: hand it the certificate found, as bytes.
	return gopayalipay.GetCertSN(certPEM(cert))
}

// RootCertSN returns the alipay_root_cert_sn of a root certificate bundle: the
// SNs of its RSA-signed certificates joined by "_" (gopay's GetRootCertSN).
// The bundle's other certificates (SM2, ECDSA) are skipped, whether or not Go
// can parse them.
func RootCertSN(pemData []byte) (string, error) {
	return gopayalipay.GetRootCertSN(pemData)
}

// parseCert returns the first certificate in pemData, skipping other blocks.
func parseCert(pemData []byte) (*x509.Certificate, error) {
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
			return cert, nil
		}
	}
}
