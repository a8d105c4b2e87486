package app_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestMain lets more parallel tests run than there are cores, unless -parallel
// says otherwise: the conformance suite's subtests spend their time waiting
// for River's scheduler (it moves due jobs every five seconds), not computing.
func TestMain(m *testing.M) {
	flag.Parse()
	if p := flag.Lookup("test.parallel"); p != nil && p.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		p.Value.Set("8")
	}
	os.Exit(m.Run())
}
