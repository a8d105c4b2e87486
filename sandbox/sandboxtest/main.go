package sandboxtest

import (
	"fmt"
	"os"
	"testing"

	"cashier"
)

// Main runs a package's tests with a temporary directory, in *dir, for the
// key pairs they share (made once, the way cashier's sandbox makes them).
func Main(m *testing.M, dir *string) {
	d, err := os.MkdirTemp("", "sandbox-keys-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*dir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// WantErrCode fails the test unless err carries code.
func WantErrCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := cashier.ErrorCode(err); got != code {
		t.Fatalf("error code %q, want %q (err: %v)", got, code, err)
	}
}
