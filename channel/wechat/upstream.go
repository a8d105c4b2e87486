package wechat

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-pay/gopay/pkg/xhttp"

	"cashier/channel/internal/gopaykit"
)

// defaultTimeout bounds each call when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// upstreamClient returns the HTTP client gopay's clients send with: hc's
// settings (timeout, redirect policy…) with a transport that only lets calls
// to base through and records each answer in the call's exchange
// (gopaykit.WithExchange).
//
// gopay's clients take the base URL as configuration (the v2 client's
// BaseURL, the v3 client's SetProxyHost), so nothing is rewritten; the
// check makes sure that no call of gopay's ever goes anywhere else.
//
// The answers are recorded because gopay turns a v2 answer into a struct
// (losing what the signature covers) and any non-200 v2 answer into a bare
// error, while the channel verifies and reads the bytes WeChat Pay sent.
func upstreamClient(hc *http.Client, base *url.URL) *xhttp.Client {
	return gopaykit.NewHTTPClient(hc, defaultTimeout, func(req *http.Request) (*http.Request, error) {
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host || !strings.HasPrefix(req.URL.Path, base.Path+"/") {
			return nil, errors.New("wechat: refusing to send a request to " + req.URL.Redacted())
		}
		return req, nil
	})
}

// withClientCert returns a copy of hc (nil: a client with defaultTimeout)
// whose TLS handshakes present cert, the merchant API certificate that v2
// refunds require. hc itself is not changed.
func withClientCert(hc *http.Client, cert *tls.Certificate) (*http.Client, error) {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return nil, errors.New("wechat: ClientCert needs the certificate and its private key")
	}
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
	t, ok := next.(*http.Transport)
	if !ok {
		return nil, errors.New("wechat: ClientCert needs HTTPClient's Transport to be an *http.Transport (or nil)")
	}
	t = t.Clone() // its TLS configuration too
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	c.Transport = t
	return &c, nil
}
