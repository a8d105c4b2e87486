package alipay

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/go-pay/gopay/pkg/xhttp"

	"cashier/channel/internal/gopaykit"
)

// gopayAPIHost and gopayAPIPath are where gopay's Alipay client sends
// server-to-server calls (https://openapi.alipay.com/gateway.do?charset=utf-8).
// The URL is fixed in gopay; gatewayClient redirects it.
const (
	gopayAPIHost = "openapi.alipay.com"
	gopayAPIPath = "/gateway.do"
)

// defaultTimeout bounds each call when Config.HTTPClient is nil.
const defaultTimeout = 30 * time.Second

// gatewayClient returns the HTTP client gopay's Alipay client uses: hc's
// settings (timeout, redirect policy…) with a transport that sends gopay's
// calls to the configured gateway instead of Alipay's production host.
//
// It rewrites the scheme, host and path of gopay's calls to the gateway's,
// keeping the query gopay adds. Any other URL is refused, so that nothing is
// ever sent to Alipay's production host by accident.
//
// It also records the answer in the call's exchange (gopaykit.WithExchange):
// gopay keeps the answer's bytes to itself when Alipay refuses a call, and
// the refusal's signature covers exactly those bytes.
func gatewayClient(hc *http.Client, gateway *url.URL) *xhttp.Client {
	return gopaykit.NewHTTPClient(hc, defaultTimeout, func(req *http.Request) (*http.Request, error) {
		if req.URL.Scheme != "https" || req.URL.Host != gopayAPIHost || req.URL.Path != gopayAPIPath {
			return nil, errors.New("alipay: refusing to send a request to " + req.URL.Redacted())
		}
		out := req.Clone(req.Context()) // a RoundTripper must not change req
		out.URL.Scheme, out.URL.Host = gateway.Scheme, gateway.Host
		out.URL.Path, out.URL.RawPath = gateway.Path, gateway.RawPath
		out.Host = ""
		return out, nil
	})
}
