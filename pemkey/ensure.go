package pemkey

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnsureRSAKeyPair returns the key pair named name in dir, creating it on
// first use: dir/<name>_private.pem (PKCS#8, mode 0600) and
// dir/<name>_public.pem (PKIX, mode 0644). dir is created with mode 0700 when
// missing. An existing private key is loaded as it is, whatever its size; a
// missing public file next to it is written again from the private key.
func EnsureRSAKeyPair(dir, name string, bits int) (*rsa.PrivateKey, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("pemkey: key pair name %q is not a plain file name", name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pemkey: create key directory: %w", err)
	}
	privPath := filepath.Join(dir, name+"_private.pem")
	pubPath := filepath.Join(dir, name+"_public.pem")

	key, err := loadPrivate(privPath)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		key, err = createPrivate(privPath, bits)
		if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}

	if _, err := os.Stat(pubPath); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(pubPath, EncodePublicPEM(&key.PublicKey), 0o644); err != nil {
			return nil, fmt.Errorf("pemkey: write %s: %w", pubPath, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("pemkey: %w", err)
	}
	return key, nil
}

func loadPrivate(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pemkey: read private key: %w", err)
	}
	key, err := ParseRSAPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return key, nil
}

// createPrivate generates a key and stores it at path unless path exists by
// then. The key is written to a temporary file and hard-linked into place, so
// that two processes starting together agree on one complete key: the loser
// of the link loads what the winner wrote.
func createPrivate(path string, bits int) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("pemkey: generate %d-bit RSA key: %w", bits, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return nil, fmt.Errorf("pemkey: create private key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod says so for the reader.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("pemkey: create private key file: %w", err)
	}
	if _, err := tmp.Write(EncodePrivatePEM(key)); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("pemkey: write private key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("pemkey: write private key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadPrivate(path)
		}
		return nil, fmt.Errorf("pemkey: store private key: %w", err)
	}
	return key, nil
}
