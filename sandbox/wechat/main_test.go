package wechat

import (
	"testing"

	"cashier/sandbox/sandboxtest"
)

// testKeyDir holds the key pairs the package's tests share.
var testKeyDir string

func TestMain(m *testing.M) { sandboxtest.Main(m, &testKeyDir) }
