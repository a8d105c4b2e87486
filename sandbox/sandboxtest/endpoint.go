// Package sandboxtest helps the simulators' tests: cashier's notify
// endpoint reduced to the channel's part.
package sandboxtest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"cashier"
)

// NotifyEndpoint verifies each notification with the channel, keeps the
// outcome, and answers what the channel says to answer. Set T and Verifier
// before serving.
type NotifyEndpoint struct {
	T           testing.TB
	Verifier    cashier.Channel
	ContentType string // when set, what every notification's Content-Type starts with

	mu       sync.Mutex
	notes    []*cashier.Notification
	noteErrs []error
}

func (e *NotifyEndpoint) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if ct := r.Header.Get("Content-Type"); e.ContentType != "" && !strings.HasPrefix(ct, e.ContentType) {
		e.T.Errorf("notification content type %q", ct)
	}
	n, err := e.Verifier.VerifyNotification(r.Context(), &cashier.InboundRequest{
		Method: r.Method, Path: r.URL.Path, Headers: r.Header, Body: body,
	})
	e.mu.Lock()
	e.notes = append(e.notes, n)
	e.noteErrs = append(e.noteErrs, err)
	e.mu.Unlock()
	reply := e.Verifier.Reply(err == nil)
	if reply.ContentType != "" {
		rw.Header().Set("Content-Type", reply.ContentType)
	}
	rw.WriteHeader(reply.Status)
	rw.Write(reply.Body)
}

// LastNote is the last notification received, as the channel read it.
func (e *NotifyEndpoint) LastNote() (*cashier.Notification, error) {
	e.T.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.notes) == 0 {
		e.T.Fatal("no notification received")
	}
	return e.notes[len(e.notes)-1], e.noteErrs[len(e.noteErrs)-1]
}

// NoteCount is how many notifications came.
func (e *NotifyEndpoint) NoteCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.notes)
}
