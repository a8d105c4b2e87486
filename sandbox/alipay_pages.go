package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
)

// The simulator's pages. html/template escapes every value, order strings and
// subjects included: they come from the merchant's request.
var alipayPages = template.Must(template.New("alipay").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · Alipay sandbox</title>
<style>
body{font-family:system-ui,sans-serif;background:#f5f7fa;margin:0;padding:2rem 1rem;color:#222}
main{max-width:28rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.2rem;color:#1677ff;margin-top:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#666}dd{margin:0;word-break:break-all}
.amount{font-size:2rem;font-weight:600}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
button{flex:1;font-size:1rem;padding:.7rem;border-radius:6px;border:1px solid #1677ff;cursor:pointer}
.pay{background:#1677ff;color:#fff}.cancel{background:#fff;color:#1677ff}
.error{color:#c00}.note{color:#666;font-size:.85rem}
</style></head><body><main>{{end}}

{{define "foot"}}<p class="note">This is cashier's Alipay sandbox: no money moves.</p></main></body></html>{{end}}

{{define "pay"}}{{template "head" "Pay"}}
<h1>Alipay sandbox checkout</h1>
<p class="amount">¥{{.TotalAmount}}</p>
<dl><dt>Subject</dt><dd>{{.Subject}}</dd><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Seller</dt><dd>{{.SellerID}}</dd></dl>
<div class="buttons">
{{range .Choices}}<form method="post" action="/sandbox/alipay/pay" style="flex:1;display:flex">
<input type="hidden" name="out_trade_no" value="{{$.OutTradeNo}}">
<input type="hidden" name="result" value="{{.Result}}">
<input type="hidden" name="order_string" value="{{$.OrderString}}">
<button class="{{.Class}}" type="submit">{{.Label}}</button></form>
{{end}}</div>
{{template "foot"}}{{end}}

{{define "result"}}{{template "head" "Result"}}
<h1>{{if eq .TradeStatus "TRADE_SUCCESS"}}Payment succeeded{{else}}Payment cancelled{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Trade no</dt><dd>{{.TradeNo}}</dd><dt>Status</dt><dd>{{.TradeStatus}}</dd>
{{if .NotifyStatus}}<dt>Notification</dt><dd>HTTP {{.NotifyStatus}}: {{.NotifyReply}}</dd>{{else}}<dt>Notification</dt><dd>none (no notify_url)</dd>{{end}}</dl>
{{if .ReturnURL}}<p><a href="{{.ReturnURL}}">Back to the merchant</a></p>{{end}}
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" "Error"}}
<h1 class="error">Alipay sandbox: request rejected</h1>
<p>{{.Reason}}</p>
<p class="note">Error code: {{.Code}}</p>
{{template "foot"}}{{end}}
`))

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

type errorPageData struct{ Code, Reason string }

// renderPage writes a page, rendering it first so that a template error
// becomes a 500 rather than half a page.
func (a *Alipay) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := alipayPages.ExecuteTemplate(&buf, name, data); err != nil {
		a.log().ErrorContext(r.Context(), "sandbox alipay: render page", "page", name, "err", err)
		http.Error(w, "sandbox page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (a *Alipay) errorPage(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
	a.renderPage(w, r, status, "error", errorPageData{Code: code, Reason: reason})
}
