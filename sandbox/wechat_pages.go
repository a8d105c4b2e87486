package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
)

// The simulator's pages. html/template escapes every value: bodies and
// order numbers come from the merchant's request.
var wechatPages = template.Must(template.New("wechat").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · WeChat Pay sandbox</title>
<style>
body{font-family:system-ui,sans-serif;background:#ededed;margin:0;padding:2rem 1rem;color:#222}
main{max-width:28rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.2rem;color:#07c160;margin-top:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#666}dd{margin:0;word-break:break-all}
.amount{font-size:2rem;font-weight:600}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
form{flex:1;display:flex}
button{flex:1;font-size:1rem;padding:.7rem;border-radius:6px;border:1px solid #07c160;cursor:pointer}
.pay{background:#07c160;color:#fff}.cancel{background:#fff;color:#07c160}
.error{color:#c00}.note{color:#666;font-size:.85rem}
</style></head><body><main>{{end}}

{{define "foot"}}<p class="note">This is cashier's WeChat Pay sandbox: no money moves.</p></main></body></html>{{end}}

{{define "pay"}}{{template "head" "Pay"}}
<h1>WeChat Pay sandbox checkout</h1>
<p class="amount">¥{{.Amount}}</p>
<dl><dt>Item</dt><dd>{{.Body}}</dd><dt>Order</dt><dd>{{.OutTradeNo}}</dd><dt>Merchant</dt><dd>{{.MchID}}</dd><dt>Type</dt><dd>{{.TradeType}}</dd></dl>
<div class="buttons">
<form method="post" action="/sandbox/wechat/pay"><input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}"><input type="hidden" name="result" value="success"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="/sandbox/wechat/pay"><input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}"><input type="hidden" name="result" value="fail"><button class="cancel" type="submit">Cancel</button></form>
</div>
{{template "foot"}}{{end}}

{{define "result"}}{{template "head" "Result"}}
<h1>{{if eq .TradeState "SUCCESS"}}Payment succeeded{{else}}Payment not made{{end}}</h1>
<dl><dt>Order</dt><dd>{{.OutTradeNo}}</dd>{{if .TransactionID}}<dt>Transaction</dt><dd>{{.TransactionID}}</dd>{{end}}<dt>State</dt><dd>{{.TradeState}}</dd>
<dt>Notification</dt><dd>{{if .NotifyStatus}}HTTP {{.NotifyStatus}}: {{.NotifyReply}}{{else}}none{{if .Note}} ({{.Note}}){{end}}{{end}}</dd></dl>
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" "Error"}}
<h1 class="error">WeChat Pay sandbox: request rejected</h1>
<p>{{.Reason}}</p>
<p class="note">Error code: {{.Code}}</p>
{{template "foot"}}{{end}}
`))

type wechatPayPageData struct {
	OutTradeNo, Amount, Body, MchID, TradeType string
}

type wechatErrorPageData struct{ Code, Reason string }

// renderPage writes a page, rendering it first so that a template error
// becomes a 500 rather than half a page.
func (w *WeChat) renderPage(rw http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := wechatPages.ExecuteTemplate(&buf, name, data); err != nil {
		w.log().ErrorContext(r.Context(), "sandbox wechat: render page", "page", name, "err", err)
		http.Error(rw, "sandbox page failed", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	rw.Write(buf.Bytes())
}

func (w *WeChat) errorPage(rw http.ResponseWriter, r *http.Request, status int, code, reason string) {
	w.renderPage(rw, r, status, "error", wechatErrorPageData{Code: code, Reason: reason})
}
