package apple

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"cashier"
)

// The marker extensions Apple puts on the certificates that sign App Store
// data: on the leaf, and on the intermediate (Apple Worldwide Developer
// Relations). A chain to Apple's root without them could be any Apple
// developer's certificate.
var (
	oidLeafMarker         = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 11, 1}
	oidIntermediateMarker = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}
)

// maxJWS bounds a signed payload: Apple's are a few KiB.
const maxJWS = 64 << 10

// verifier checks Apple's signed data (JWS, ES256, x5c chain).
type verifier struct {
	root *x509.Certificate
	now  func() time.Time
}

// jwsHeader is the protected header of Apple's JWS.
type jwsHeader struct {
	Alg string   `json:"alg"`
	X5C []string `json:"x5c"`
}

// verify checks a JWS as Apple's library does and decodes its payload
// into v: the header's x5c leaf and intermediate chain to the pinned root
// at the payload's signedDate (genuine data outlives its leaf certificate),
// both carry Apple's markers, and the ES256 signature verifies with the
// leaf's key. The bytes of x5c[2] are ignored: the pinned root is the root.
func (vr *verifier) verify(token string, v any) error {
	if len(token) > maxJWS {
		return cashier.Errorf(cashier.EINVALID, "signed payload is longer than %d bytes", maxJWS)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return cashier.Errorf(cashier.EINVALID, "not a JWS: %d parts, want 3", len(parts))
	}
	var h jwsHeader
	if err := decodeSegment(parts[0], &h); err != nil {
		return cashier.Errorf(cashier.EINVALID, "JWS header: %v", err)
	}
	if h.Alg != "ES256" {
		return cashier.Errorf(cashier.EFORBIDDEN, "JWS alg %q: Apple signs with ES256 only", h.Alg)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return cashier.Errorf(cashier.EINVALID, "JWS payload: %v", err)
	}
	var dated struct {
		SignedDate int64 `json:"signedDate"`
	}
	if err := json.Unmarshal(payload, &dated); err != nil {
		return cashier.Errorf(cashier.EINVALID, "JWS payload: %v", err)
	}
	at := vr.now()
	if dated.SignedDate > 0 {
		at = time.UnixMilli(dated.SignedDate)
	}
	key, err := vr.chain(h.X5C, at)
	if err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return cashier.Errorf(cashier.EINVALID, "JWS signature: %v", err)
	}
	if err := jwt.SigningMethodES256.Verify(parts[0]+"."+parts[1], sig, key); err != nil {
		return cashier.Errorf(cashier.EFORBIDDEN, "JWS signature does not verify with the leaf certificate's key")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(v); err != nil {
		return cashier.Errorf(cashier.EINVALID, "JWS payload: %v", err)
	}
	return nil
}

// chain checks x5c's leaf and intermediate against the pinned root at the
// time at, and returns the leaf's key.
func (vr *verifier) chain(x5c []string, at time.Time) (*ecdsa.PublicKey, error) {
	if len(x5c) < 2 {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS x5c has %d certificates: want the leaf and the intermediate", len(x5c))
	}
	certs := make([]*x509.Certificate, 2)
	for i := range certs {
		der, err := base64.StdEncoding.DecodeString(x5c[i])
		if err != nil {
			return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS x5c[%d]: %v", i, err)
		}
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS x5c[%d]: %v", i, err)
		}
	}
	leaf, intermediate := certs[0], certs[1]
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(vr.root)
	intermediates.AddCert(intermediate)
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS certificate chain at %s: %v", at.UTC().Format(time.RFC3339), err)
	}
	if len(chains[0]) != 3 || !chains[0][1].Equal(intermediate) {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS certificate chain is not leaf, intermediate, Apple's root")
	}
	if !hasExtension(leaf, oidLeafMarker) {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS leaf certificate lacks Apple's App Store marker %v", oidLeafMarker)
	}
	if !hasExtension(intermediate, oidIntermediateMarker) {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS intermediate certificate lacks Apple's marker %v", oidIntermediateMarker)
	}
	key, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "JWS leaf key is not an ECDSA P-256 key")
	}
	return key, nil
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
