package wechat

import (
	"net/http"

	"cashier/sandbox"
)

// wechatPages are the WeChat Pay simulator's pages, in the frame of pages.go.
var wechatPages = sandbox.NewPages(sandbox.Look{Name: "WeChat Pay", Background: "#ededed", Accent: "#07c160"}, "sandbox wechat", `
{{define "pay"}}<h1>WeChat Pay sandbox checkout</h1>
<p class="amount">¥{{.Amount}}</p>
<dl><dt>Item</dt><dd>{{.Body}}</dd><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Merchant</dt><dd>{{.MchID}}</dd><dt>Type</dt><dd>{{.TradeType}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/wechat/pay"><input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}"><input type="hidden" name="result" value="success"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="/sandbox/wechat/pay"><input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}"><input type="hidden" name="result" value="fail"><button class="cancel" type="submit">Cancel</button></form>
</div>{{end}}

{{define "result"}}<h1>{{if .Paid}}Payment succeeded{{else}}Payment not made{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd>{{if .ChannelTradeNo}}<dt>Transaction</dt><dd>{{.ChannelTradeNo}}</dd>{{end}}<dt>State</dt><dd>{{.Status}}</dd>
</dl>
<details><summary>For developers: the notification</summary><p>{{if .NotifyStatus}}cashier answered HTTP {{.NotifyStatus}}: <code>{{.NotifyReply}}</code>{{else}}none sent{{if .Note}} ({{.Note}}){{end}}{{end}}</p></details>{{end}}
`)

type wechatPayPageData struct {
	OutTradeNo, Amount, Body, MchID, TradeType string
}

func (w *WeChat) renderPage(rw http.ResponseWriter, r *http.Request, status int, name string, data any) {
	wechatPages.Render(rw, r, w.log(), status, name, data)
}

func (w *WeChat) errorPage(rw http.ResponseWriter, r *http.Request, status int, code, reason string) {
	wechatPages.RenderError(rw, r, w.log(), status, code, reason)
}
