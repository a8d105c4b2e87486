package channel

import (
	"crypto/rsa"
	"fmt"
	"os"
	"strings"

	"cashier/pemkey"
)

// ReadFile reads the file setting ("alipay.app_cert_file") names; an empty
// path is no file (nil). Errors name the setting.
func ReadFile(setting, path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	return b, nil
}

// ReadSecret reads a secret (an API key) from the file setting names,
// without the spaces and line ends around it.
func ReadSecret(setting, path string) (string, error) {
	b, err := ReadFile(setting, path)
	return strings.TrimSpace(string(b)), err
}

// ReadRSAPrivateKey reads the PEM private key setting names.
func ReadRSAPrivateKey(setting, path string) (*rsa.PrivateKey, error) {
	b, err := ReadFile(setting, path)
	if err != nil {
		return nil, err
	}
	key, err := pemkey.ParseRSAPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	return key, nil
}

// ReadRSAPublicKey reads the PEM public key setting names.
func ReadRSAPublicKey(setting, path string) (*rsa.PublicKey, error) {
	b, err := ReadFile(setting, path)
	if err != nil {
		return nil, err
	}
	key, err := pemkey.ParseRSAPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	return key, nil
}
