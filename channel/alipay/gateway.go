package alipay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-pay/gopay/pkg/xhttp"
)

// gopayAPIHost and gopayAPIPath are where gopay's Alipay client sends
// server-to-server calls (https://openapi.alipay.com/gateway.do?charset=utf-8).
// The URL is fixed in gopay; gatewayTransport redirects it.
const (
	gopayAPIHost = "openapi.alipay.com"
	gopayAPIPath = "/gateway.do"
)

// maxResponse bounds what is read from the gateway; real answers are a few KB.
const maxResponse = 1 << 20

// gatewayClient returns the HTTP client gopay's Alipay client uses: hc's
// settings (timeout, redirect policy…) with a transport that sends gopay's
// calls to the configured gateway instead of Alipay's production host.
func gatewayClient(hc *http.Client, gateway *url.URL) *xhttp.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = 30 * time.Second
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &gatewayTransport{gateway: gateway, base: base}
	xc := xhttp.NewClient()
	xc.HttpClient = &c
	return xc
}

// gatewayTransport rewrites the scheme, host and path of gopay's calls to the
// configured gateway, keeping the query gopay adds. Any other URL is refused,
// so that nothing is ever sent to Alipay's production host by accident.
//
// It also records the answer in the call's exchange (see withExchange):
// gopay keeps the answer's bytes to itself when Alipay refuses a call, and
// the refusal's signature covers exactly those bytes.
type gatewayTransport struct {
	gateway *url.URL
	base    http.RoundTripper
}

func (t *gatewayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.URL.Host != gopayAPIHost || req.URL.Path != gopayAPIPath {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("alipay: refusing to send a request to " + req.URL.Redacted())
	}
	out := req.Clone(req.Context()) // a RoundTripper must not change req
	out.URL.Scheme, out.URL.Host = t.gateway.Scheme, t.gateway.Host
	out.URL.Path, out.URL.RawPath = t.gateway.Path, t.gateway.RawPath
	out.Host = ""
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	x, ok := req.Context().Value(exchangeKey{}).(*exchange)
	if !ok {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	x.status, x.body = resp.StatusCode, body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// exchange is what the gateway answered to one call: HTTP status and body
// (cut at maxResponse). A zero status means that no answer came.
type exchange struct {
	status int
	body   []byte
}

type exchangeKey struct{}

// withExchange returns a context whose gateway call is recorded in x.
func withExchange(ctx context.Context) (context.Context, *exchange) {
	x := new(exchange)
	return context.WithValue(ctx, exchangeKey{}, x), x
}
