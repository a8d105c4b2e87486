package api

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// addressLimiter bounds, per remote address, how many notifications that
// fail verification are recorded. It is asked only after verification, so a
// genuine message — a channel's resend included — is never held back.
type addressLimiter struct {
	perMinute int

	mu    sync.Mutex
	addrs map[string]*addressBucket
}

type addressBucket struct {
	limiter *rate.Limiter
	warned  bool // the first message held back since the bucket was last full was logged
}

// maxTrackedAddresses bounds the limiter's memory: past it, addresses whose
// bucket is full again are forgotten, and if that frees nothing, a new
// address has no allowance until it does (a flood from many addresses is
// held back, not let through by starting afresh).
const maxTrackedAddresses = 10000

func newAddressLimiter(perMinute int) *addressLimiter {
	return &addressLimiter{perMinute: perMinute, addrs: map[string]*addressBucket{}}
}

// allow takes one message from addr's allowance; first is true for the first
// message held back since addr was last within its allowance, so that a
// flood is logged once, not once per message.
func (l *addressLimiter) allow(addr string, now time.Time) (ok, first bool) {
	addr = sender(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.addrs[addr]
	if b == nil {
		if len(l.addrs) >= maxTrackedAddresses {
			l.forgetIdle(now)
		}
		if len(l.addrs) >= maxTrackedAddresses {
			return false, false
		}
		b = &addressBucket{limiter: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.addrs[addr] = b
	}
	if b.limiter.AllowN(now, 1) {
		b.warned = false
		return true, false
	}
	first = !b.warned
	b.warned = true
	return false, first
}

// forgetIdle drops the addresses whose allowance is whole again: they are
// indistinguishable from addresses never seen.
func (l *addressLimiter) forgetIdle(now time.Time) {
	for addr, b := range l.addrs {
		if b.limiter.TokensAt(now) >= float64(l.perMinute) {
			delete(l.addrs, addr)
		}
	}
}

// sender is whom addr's allowance belongs to: the address itself, or for
// IPv6 its /64, which one host can fill with addresses of its own.
func sender(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
