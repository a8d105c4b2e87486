// Package gopaykit holds what the channels built on gopay hand to gopay's
// clients: the HTTP client they send with (NewHTTPClient), which keeps the
// raw answer to each call (WithExchange), and the logger they write to
// (NewLogger).
//
// The channels need the raw answers because gopay does not give them back:
// it turns answers into structs, and refusals into bare errors, while a
// signature covers the exact bytes that were sent.
package gopaykit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-pay/gopay/pkg/xhttp"
)

// MaxAnswer bounds what is read of an answer; real answers are a few KB.
const MaxAnswer = 1 << 20

// A Route decides where one of gopay's requests goes: req itself, a copy of
// req aimed elsewhere (a RoundTripper must not change req), or, with an
// error, nowhere. Each channel's Route makes sure that gopay never sends
// anything to a host other than the configured one.
type Route func(req *http.Request) (*http.Request, error)

// NewHTTPClient returns the client for gopay's SetHttpClient: hc's settings
// (timeout, redirect policy…), or a client with timeout when hc is nil, with
// a transport that sends each request where route says and records its
// answer in the call's Exchange. hc itself is not changed.
func NewHTTPClient(hc *http.Client, timeout time.Duration, route Route) *xhttp.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = timeout
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &recordingTransport{route: route, next: next}
	xc := xhttp.NewClient()
	xc.HttpClient = &c
	// gopay reads no more of an answer than the transport records.
	xc.SetBodySize(MaxAnswer >> 20)
	return xc
}

// recordingTransport sends gopay's requests where its route says, and keeps
// a copy of each answer for the call that asked for it (see WithExchange).
type recordingTransport struct {
	route Route
	next  http.RoundTripper
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out, err := t.route(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	x, ok := req.Context().Value(exchangeKey{}).(*Exchange)
	if !ok {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	x.Status, x.Header, x.Body = resp.StatusCode, resp.Header, body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// Exchange is what the channel answered to one call: HTTP status, header and
// body (cut at MaxAnswer). A zero Status means that no answer came.
type Exchange struct {
	Status int
	Header http.Header
	Body   []byte
}

type exchangeKey struct{}

// WithExchange returns a context whose call through a NewHTTPClient client
// is recorded in x.
func WithExchange(ctx context.Context) (context.Context, *Exchange) {
	x := new(Exchange)
	return context.WithValue(ctx, exchangeKey{}, x), x
}

// Logger is a logger for gopay's SetLogger that writes to a slog.Logger.
// Debug and info lines are dropped: gopay writes request and response dumps
// there, and signing strings, which for WeChat Pay v2 end in the API key.
type Logger struct{ l *slog.Logger }

// NewLogger returns a Logger writing warnings and errors to l.
func NewLogger(l *slog.Logger) Logger { return Logger{l} }

func (x Logger) Debug(...any)              {}
func (x Logger) Info(...any)               {}
func (x Logger) Debugf(string, ...any)     {}
func (x Logger) Infof(string, ...any)      {}
func (x Logger) Warn(a ...any)             { x.l.Warn("gopay: " + fmt.Sprint(a...)) }
func (x Logger) Error(a ...any)            { x.l.Error("gopay: " + fmt.Sprint(a...)) }
func (x Logger) Warnf(f string, a ...any)  { x.l.Warn("gopay: " + fmt.Sprintf(f, a...)) }
func (x Logger) Errorf(f string, a ...any) { x.l.Error("gopay: " + fmt.Sprintf(f, a...)) }
