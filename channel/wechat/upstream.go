package wechat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-pay/gopay/pkg/xhttp"
)

// maxAnswer bounds what is read from WeChat Pay; real answers are a few KB.
const maxAnswer = 1 << 20

// defaultTimeout bounds each call when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// upstream is the HTTP client gopay's clients send with.
type upstream struct {
	xhttp *xhttp.Client
}

// upstreamClient returns hc's settings (timeout, redirect policy…) with a
// transport that only lets calls to base through and records each answer in
// the call's exchange (see withExchange).
//
// gopay's clients take the base URL as configuration (the v2 client's
// BaseURL, the v3 client's SetProxyHost), so nothing is rewritten; the
// check makes sure that no call of gopay's ever goes anywhere else.
func upstreamClient(hc *http.Client, base *url.URL) *upstream {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = defaultTimeout
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &recordingTransport{base: base, next: next}
	xc := xhttp.NewClient()
	xc.HttpClient = &c
	xc.SetBodySize(maxAnswer >> 20)
	return &upstream{xhttp: xc}
}

// recordingTransport keeps a copy of each answer for the call that asked
// for it: gopay turns a v2 answer into a struct (losing what the signature
// covers) and any non-200 v2 answer into a bare error, while the channel
// verifies and reads the bytes WeChat Pay sent.
type recordingTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != t.base.Scheme || req.URL.Host != t.base.Host || !strings.HasPrefix(req.URL.Path, t.base.Path+"/") {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("wechat: refusing to send a request to " + req.URL.Redacted())
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	x, ok := req.Context().Value(exchangeKey{}).(*exchange)
	if !ok {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	x.status, x.header, x.body = resp.StatusCode, resp.Header, body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// exchange is what WeChat Pay answered to one call. A zero status means that
// no answer came.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

type exchangeKey struct{}

// withExchange returns a context whose call to WeChat Pay is recorded in x.
func withExchange(ctx context.Context) (context.Context, *exchange) {
	x := new(exchange)
	return context.WithValue(ctx, exchangeKey{}, x), x
}
