package wechat

import (
	"net/http"
	"net/url"

	"cashier/sandbox"
)

// wechatPages are the WeChat Pay simulator's pages, in the frame of pages.go.
var wechatPages = sandbox.NewPages(sandbox.Look{Name: "WeChat Pay", Background: "#ededed", Accent: "#07c160"}, "sandbox wechat", `
{{define "pay"}}<h1>WeChat Pay sandbox checkout</h1>
<p class="amount">¥{{.Amount}}</p>
<dl><dt>Item</dt><dd>{{.Body}}</dd><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Merchant</dt><dd>{{.MchID}}</dd><dt>Type</dt><dd>{{.TradeType}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/wechat/pay"><input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}"><input type="hidden" name="result" value="success">{{if .RedirectURL}}<input type="hidden" name="redirect_url" value="{{.RedirectURL}}">{{end}}<button class="pay" type="submit">Pay</button></form>
<form method="post" action="/sandbox/wechat/pay"><input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}"><input type="hidden" name="result" value="fail">{{if .RedirectURL}}<input type="hidden" name="redirect_url" value="{{.RedirectURL}}">{{end}}<button class="cancel" type="submit">Cancel</button></form>
</div>{{end}}

{{define "result"}}<h1>{{if .Paid}}Payment succeeded{{else}}Payment not made{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd>{{if .ChannelTradeNo}}<dt>Transaction</dt><dd>{{.ChannelTradeNo}}</dd>{{end}}<dt>State</dt><dd>{{.Status}}</dd>
</dl>
<details><summary>For developers: the notification</summary><p>{{if .NotifyStatus}}cashier answered HTTP {{.NotifyStatus}}: <code>{{.NotifyReply}}</code>{{else}}none sent{{if .Note}} ({{.Note}}){{end}}{{end}}</p></details>
{{if .RedirectURL}}<p><a href="{{.RedirectURL}}">Back to the merchant</a></p>{{end}}{{end}}
`)

type wechatPayPageData struct {
	OutTradeNo, Amount, Body, MchID, TradeType string
	// RedirectURL is where an H5 payment sends the browser back
	// (mweb_url's redirect_url), as WeChat Pay does after paying.
	RedirectURL string
}

// wechatResultData is the result page: the answer, and where to go back.
type wechatResultData struct {
	*sandbox.PayAnswer
	RedirectURL string
}

// redirectURL is an H5 page's redirect_url, when it is an http(s) URL.
func redirectURL(r *http.Request) string {
	v := r.FormValue("redirect_url")
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return v
}

func (w *WeChat) renderPage(rw http.ResponseWriter, r *http.Request, status int, name string, data any) {
	wechatPages.Render(rw, r, w.log(), status, name, data)
}

func (w *WeChat) errorPage(rw http.ResponseWriter, r *http.Request, status int, code, reason string) {
	wechatPages.RenderError(rw, r, w.log(), status, code, reason)
}
