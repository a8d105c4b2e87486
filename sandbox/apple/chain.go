package apple

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The marker extensions of Apple's App Store signing certificates: the
// simulator's chain carries them, as Apple's does.
var (
	oidLeafMarker         = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 11, 1}
	oidIntermediateMarker = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}
)

// Chain is a signing chain shaped like Apple's: a root, an intermediate
// and a leaf, ECDSA P-256, the markers on leaf and intermediate.
type Chain struct {
	Root, Intermediate, Leaf *x509.Certificate
	LeafKey                  *ecdsa.PrivateKey
}

// X5C is the chain as a JWS header's x5c: leaf, intermediate, root.
func (c *Chain) X5C() []string {
	return []string{b64(c.Leaf.Raw), b64(c.Intermediate.Raw), b64(c.Root.Raw)}
}

// ChainOptions shape a chain that Apple's would not be, for tests.
type ChainOptions struct {
	NoLeafMarker, NoIntermediateMarker bool
	LeafNotAfter                       time.Time // zero: ten years on
}

// NewChain makes a fresh chain.
func NewChain(opts ChainOptions) (*Chain, error) {
	now := time.Now().Add(-time.Hour)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	root, err := makeCert(&x509.Certificate{Subject: pkix.Name{CommonName: "cashier sandbox Apple Root CA - G3"},
		NotBefore: now, NotAfter: now.AddDate(30, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, rootKey, nil)
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	inter := &x509.Certificate{Subject: pkix.Name{CommonName: "cashier sandbox Apple Worldwide Developer Relations CA - G6"},
		NotBefore: now, NotAfter: now.AddDate(20, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	if !opts.NoIntermediateMarker {
		inter.ExtraExtensions = []pkix.Extension{{Id: oidIntermediateMarker, Value: []byte{0x05, 0x00}}}
	}
	if inter, err = makeCert(inter, root, interKey, rootKey); err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	notAfter := opts.LeafNotAfter
	if notAfter.IsZero() {
		notAfter = now.AddDate(10, 0, 0)
	}
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "cashier sandbox Prod ECC Mac App Store and iTunes Store Receipt Signing"},
		NotBefore: now, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	if !opts.NoLeafMarker {
		leaf.ExtraExtensions = []pkix.Extension{{Id: oidLeafMarker, Value: []byte{0x05, 0x00}}}
	}
	if leaf, err = makeCert(leaf, inter, leafKey, interKey); err != nil {
		return nil, err
	}
	return &Chain{Root: root, Intermediate: inter, Leaf: leaf, LeafKey: leafKey}, nil
}

var serials sync.Mutex

func makeCert(tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (*x509.Certificate, error) {
	serials.Lock()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	serials.Unlock()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// The chain's files in the sandbox directory: the root's certificate is
// what the channel pins; the rest is the simulator's.
const (
	rootFile  = "apple_root_cert.pem"
	chainFile = "apple_signing_chain.pem" // intermediate and leaf certificates, and the leaf's key
)

// ensureChain reads the chain from dir, making it on first use.
func ensureChain(dir string) (*Chain, error) {
	c, err := readChain(dir)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	if c, err = NewChain(ChainOptions{}); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(c.LeafKey)
	if err != nil {
		return nil, err
	}
	chain := append(pemBlock("CERTIFICATE", c.Intermediate.Raw), pemBlock("CERTIFICATE", c.Leaf.Raw)...)
	chain = append(chain, pemBlock("EC PRIVATE KEY", keyDER)...)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, chainFile), chain, 0o600); err != nil {
		return nil, err
	}
	return c, os.WriteFile(filepath.Join(dir, rootFile), pemBlock("CERTIFICATE", c.Root.Raw), 0o644)
}

func readChain(dir string) (*Chain, error) {
	rootPEM, err := os.ReadFile(filepath.Join(dir, rootFile))
	if err != nil {
		return nil, err
	}
	rest, err := os.ReadFile(filepath.Join(dir, chainFile))
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	var key *ecdsa.PrivateKey
	for b, in := pem.Decode(append(rootPEM, rest...)); b != nil; b, in = pem.Decode(in) {
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			certs = append(certs, c)
		case "EC PRIVATE KEY":
			if key, err = x509.ParseECPrivateKey(b.Bytes); err != nil {
				return nil, err
			}
		}
	}
	if len(certs) != 3 || key == nil {
		return nil, fmt.Errorf("%s: want the root, intermediate and leaf certificates and the leaf's key", chainFile)
	}
	return &Chain{Root: certs[0], Intermediate: certs[1], Leaf: certs[2], LeafKey: key}, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// forgerChain is a chain shaped like Apple's that is not rooted at the
// sandbox's root: what a forger has. One per process.
var forgerChain = sync.OnceValues(func() (*Chain, error) { return NewChain(ChainOptions{}) })
