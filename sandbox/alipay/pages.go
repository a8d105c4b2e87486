package alipay

import (
	"net/http"

	"cashier/sandbox"
)

// alipayPages are the Alipay simulator's pages, in the frame of pages.go.
var alipayPages = sandbox.NewPages(sandbox.Look{Name: "Alipay", Background: "#f5f7fa", Accent: "#1677ff"}, "sandbox alipay", `
{{define "pay"}}<h1>Alipay sandbox checkout</h1>
<p class="amount">¥{{.TotalAmount}}</p>
<dl><dt>Subject</dt><dd>{{.Subject}}</dd><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Seller</dt><dd>{{.SellerID}}</dd></dl>
<div class="buttons">
{{range .Choices}}<form method="post" action="/sandbox/alipay/pay">
<input type="hidden" name="out_trade_no" value="{{$.OutTradeNo}}">
<input type="hidden" name="result" value="{{.Result}}">
<input type="hidden" name="order_string" value="{{$.OrderString}}">
<button class="{{.Class}}" type="submit">{{.Label}}</button></form>
{{end}}</div>{{end}}

{{define "result"}}<h1>{{if eq .TradeStatus "TRADE_SUCCESS"}}Payment succeeded{{else}}Payment cancelled{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Trade no</dt><dd>{{.TradeNo}}</dd><dt>Status</dt><dd>{{.TradeStatus}}</dd>
</dl>
<details><summary>For developers: the notification</summary><p>{{if .NotifyStatus}}cashier answered HTTP {{.NotifyStatus}}: <code>{{.NotifyReply}}</code>{{else}}none sent (no notify_url){{end}}</p></details>
{{if .ReturnURL}}<p><a href="{{.ReturnURL}}">Back to the merchant</a></p>{{end}}{{end}}
`)

type payChoice struct{ Result, Label, Class string }

type payPageData struct {
	OutTradeNo, TotalAmount, Subject, SellerID, OrderString string
	Choices                                                 []payChoice
}

type resultPageData struct {
	OutTradeNo, TradeNo, TradeStatus string
	NotifyStatus                     int
	NotifyReply                      string
	ReturnURL                        string
}

func (a *Alipay) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	alipayPages.Render(w, r, a.log(), status, name, data)
}

func (a *Alipay) errorPage(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
	alipayPages.RenderError(w, r, a.log(), status, code, reason)
}
