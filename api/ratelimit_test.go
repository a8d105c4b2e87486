package api

import (
	"fmt"
	"testing"
	"time"
)

// Each address has its allowance; an IPv6 host's whole /64 shares one; a
// flood from more addresses than are tracked is held back, not forgotten.
func TestAddressLimiter(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := newAddressLimiter(2)
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.allow("192.0.2.1", now); ok != want {
			t.Errorf("message %d from one address: allowed %v", i+1, ok)
		}
	}
	if ok, _ := l.allow("192.0.2.2", now); !ok {
		t.Error("another address shares the first's allowance")
	}
	l.allow("2001:db8::1", now)
	l.allow("2001:db8::2", now)
	if ok, _ := l.allow("2001:db8::ffff:3", now); ok {
		t.Error("a third address of one IPv6 /64 was allowed past an allowance of 2")
	}
	if ok, _ := l.allow("2001:db8:0:1::1", now); !ok {
		t.Error("another /64 shares the first's allowance")
	}

	flood := newAddressLimiter(1)
	for i := range maxTrackedAddresses {
		flood.allow(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), now)
	}
	if ok, _ := flood.allow("192.0.2.9", now); ok {
		t.Error("a new address was allowed with every tracked allowance spent")
	}
	if ok, _ := flood.allow("10.0.0.0", now); ok {
		t.Error("a flooding address got its allowance back")
	}
	if ok, _ := flood.allow("192.0.2.9", now.Add(2*time.Minute)); !ok {
		t.Error("a new address was refused once the flood's allowances were whole again")
	}
}
