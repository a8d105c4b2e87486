package sandbox

import (
	"fmt"
	"os"
	"testing"
)

// testKeyDir holds the key pairs the package's tests share, made the way
// cashier's sandbox mode makes them.
var testKeyDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sandbox-keys-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testKeyDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
