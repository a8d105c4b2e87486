package sandbox

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Operations of the simulated servers, for Faults.Inject: the same names for
// every simulator (and both WeChat Pay API versions).
const (
	OpPrepare     = "prepare"     // placing the order (WeChat unifiedorder, v3 transactions)
	OpQuery       = "query"       // asking about a trade
	OpClose       = "close"       // closing a trade
	OpRefund      = "refund"      // asking for a refund
	OpRefundQuery = "refundquery" // asking about a refund
)

// Fault is how a simulated call fails. Delay applies first (the simulator
// gives up when the caller does); then an ErrCode makes a refusal (with
// HTTPStatus where the protocol carries one), else an HTTPStatus a bare HTTP
// error, else a ReturnCode a communication failure; with none set the call
// is answered normally, late (and signed by a forger with ForgedAnswer).
type Fault struct {
	Delay      time.Duration // answer after this long
	HTTPStatus int           // answer this status, with the channel's error body
	// ReturnCode and ReturnMsg make a communication failure of a protocol
	// that has them (WeChat Pay v2's return_code FAIL); others ignore them.
	ReturnCode, ReturnMsg string
	// ErrCode and ErrCodeDes make a refusal in the channel's words (WeChat
	// Pay's ORDERPAID, Alipay's ACQ.SYSTEM_ERROR…), with HTTPStatus when the
	// protocol carries one.
	ErrCode, ErrCodeDes string
	// ForgedAnswer answers normally, signed with a key that is not the
	// channel's.
	ForgedAnswer bool
}

// Wait waits out f.Delay; false when the caller gave up first.
func (f Fault) Wait(ctx context.Context) bool {
	if f.Delay <= 0 {
		return true
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Faults holds the faults injected into one simulator. The zero value has
// none.
type Faults struct {
	mu sync.Mutex
	m  map[string]*fault
}

type fault struct {
	f    Fault
	left int // < 0: until Clear
}

// Inject makes the next n calls of operation op (an Op… name) that pass the
// simulator's checks fail as f says; n <= 0 means until Clear. It replaces
// an earlier fault of op.
func (fs *Faults) Inject(op string, n int, f Fault) {
	if n <= 0 {
		n = -1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = make(map[string]*fault)
	}
	fs.m[op] = &fault{f: f, left: n}
}

// Clear removes every injected fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.m = nil
}

// Take returns the fault of op, if any, counting the call.
func (fs *Faults) Take(op string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ft, ok := fs.m[op]
	if !ok {
		return Fault{}, false
	}
	if ft.left > 0 {
		ft.left--
		if ft.left == 0 {
			delete(fs.m, op)
		}
	}
	return ft.f, true
}

// Fail applies the fault injected into op, if any: it waits out the delay,
// then answers an HTTPStatus alone as a bare HTTP error, and an ErrCode as
// refuse answers it (the channel's signed refusal, with ErrCodeDes). It
// reports whether the call has been answered (or the caller gave up), and
// the fault, for what is left to the simulator (ForgedAnswer).
func (fs *Faults) Fail(w http.ResponseWriter, r *http.Request, op string, refuse func(code, msg string)) (bool, Fault) {
	f, ok := fs.Take(op)
	if !ok {
		return false, f
	}
	if !f.Wait(r.Context()) {
		return true, f
	}
	switch {
	case f.HTTPStatus != 0 && f.ErrCode == "":
		http.Error(w, http.StatusText(f.HTTPStatus), f.HTTPStatus)
		return true, f
	case f.ErrCode != "":
		refuse(f.ErrCode, f.ErrCodeDes)
		return true, f
	}
	return false, f
}
