package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"cashier"
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

// notifyEndpoint is cashier's notify endpoint, reduced to the channel's
// part: it verifies each notification with the channel, keeps the outcome,
// and answers what the channel says to answer. The test worlds embed it.
type notifyEndpoint struct {
	t           *testing.T
	verifier    cashier.Channel
	contentType string // when set, what every notification's Content-Type starts with

	mu       sync.Mutex
	notes    []*cashier.Notification
	noteErrs []error
}

func (e *notifyEndpoint) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if ct := r.Header.Get("Content-Type"); e.contentType != "" && !strings.HasPrefix(ct, e.contentType) {
		e.t.Errorf("notification content type %q", ct)
	}
	n, err := e.verifier.VerifyNotification(r.Context(), &cashier.InboundRequest{
		Method: r.Method, Path: r.URL.Path, Headers: r.Header, Body: body,
	})
	e.mu.Lock()
	e.notes = append(e.notes, n)
	e.noteErrs = append(e.noteErrs, err)
	e.mu.Unlock()
	reply := e.verifier.Reply(err == nil)
	if reply.ContentType != "" {
		rw.Header().Set("Content-Type", reply.ContentType)
	}
	rw.WriteHeader(reply.Status)
	rw.Write(reply.Body)
}

func (e *notifyEndpoint) lastNote() (*cashier.Notification, error) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.notes) == 0 {
		e.t.Fatal("no notification received")
	}
	return e.notes[len(e.notes)-1], e.noteErrs[len(e.noteErrs)-1]
}

func (e *notifyEndpoint) noteCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.notes)
}
