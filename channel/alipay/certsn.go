package alipay

import (
	"crypto/md5"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// CertSN returns the Alipay SN of the first certificate in pemData (the
// app_cert_sn of an app certificate): the hex MD5 of the issuer DN in RFC 4514
// string form followed by the decimal serial number.
func CertSN(pemData []byte) (string, error) {
	cert, err := parseCert(pemData)
	if err != nil {
		return "", err
	}
	return certSN(cert), nil
}

// RootCertSN returns the alipay_root_cert_sn of a root certificate bundle: the
// SNs of its RSA-signed certificates joined by "_". The bundle's other
// certificates (SM2, ECDSA) are skipped, whether or not Go can parse them.
func RootCertSN(pemData []byte) (string, error) {
	var sn string
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !rsaSigned(cert.SignatureAlgorithm) {
			continue
		}
		if sn != "" {
			sn += "_"
		}
		sn += certSN(cert)
	}
	if sn == "" {
		return "", errors.New("no RSA-signed certificate in the root bundle")
	}
	return sn, nil
}

func rsaSigned(alg x509.SignatureAlgorithm) bool {
	switch alg {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return true
	}
	return false
}

// certSN hashes the issuer as it is encoded in the certificate. pkix.Name's
// String would reorder the attributes by type; Alipay's SDKs use the
// certificate's own order (Java's X500Principal.getName), which is what the
// raw RDN sequence gives.
func certSN(cert *x509.Certificate) string {
	issuer := cert.Issuer.String()
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawIssuer, &rdns); err == nil && len(rest) == 0 {
		issuer = rdns.String()
	}
	sum := md5.Sum([]byte(issuer + cert.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

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
