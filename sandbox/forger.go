package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

var forgerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// ForgerKey is a real RSA key that is no channel's: what a forger has, to
// sign forged notifications and answers with. One per process, made on
// first use, outside any simulator's lock.
func ForgerKey() (*rsa.PrivateKey, error) { return forgerKey() }
