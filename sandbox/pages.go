package sandbox

import (
	"bytes"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

// The simulators' HTML pages share one frame (head, style, footer) and one
// error page; each simulator adds its own pay and result pages, in its own
// name and colours. html/template escapes every value: subjects, bodies and
// order numbers come from the merchant's request.
const pageFrame = `
{{define "frame"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{.Look.Name}} sandbox</title>
<style>
body{font-family:system-ui,sans-serif;background:{{.Look.Background}};margin:0;padding:2rem 1rem;color:#222}
main{max-width:28rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.2rem;color:{{.Look.Accent}};margin-top:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#666}dd{margin:0;word-break:break-all}
.amount{font-size:2rem;font-weight:600}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
form{flex:1;display:flex}
button{flex:1;font-size:1rem;padding:.7rem;border-radius:6px;border:1px solid {{.Look.Accent}};cursor:pointer}
.pay{background:{{.Look.Accent}};color:#fff}.cancel{background:#fff;color:{{.Look.Accent}}}
.error{color:#c00}.note{color:#666;font-size:.85rem}
</style></head><body><main>
{{.Content}}
<p class="note">This is cashier's {{.Look.Name}} sandbox: no money moves.</p></main></body></html>{{end}}

{{define "error"}}<h1 class="error">{{.Simulator}} sandbox: request rejected</h1>
<p>{{.Reason}}</p>
<p class="note">Error code: {{.Code}}</p>{{end}}
`

// pageTitles are the pages' titles, by template name.
var pageTitles = map[string]string{"pay": "Pay", "result": "Result", "error": "Error"}

// Look is what tells one simulator's pages from another's.
type Look struct {
	Name               string       // as the pages name the simulator: "Alipay"
	Background, Accent template.CSS // colours: page background; headings and buttons
}

// Pages renders one simulator's pages.
type Pages struct {
	look    Look
	logName string // in log messages: "sandbox alipay"
	tmpl    *template.Template
}

// NewPages adds the simulator's own page templates (content: "pay" and
// "result", each the inside of the frame's main element) to the frame.
func NewPages(look Look, logName, content string) *Pages {
	tmpl := template.Must(template.Must(template.New("pages").Parse(pageFrame)).Parse(content))
	return &Pages{look: look, logName: logName, tmpl: tmpl}
}

type frameData struct {
	Title   string
	Look    Look
	Content template.HTML // the page's own template, rendered (and escaped) already
}

type errorPageData struct{ Simulator, Code, Reason string }

// Render writes the page name, rendering it first so that a template error
// becomes a 500 rather than half a page.
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, name string, data any) {
	var content, page bytes.Buffer
	err := p.tmpl.ExecuteTemplate(&content, name, data)
	if err == nil {
		err = p.tmpl.ExecuteTemplate(&page, "frame", frameData{Title: pageTitles[name], Look: p.look, Content: template.HTML(content.String())})
	}
	if err != nil {
		log.ErrorContext(r.Context(), p.logName+": render page", "page", name, "err", err)
		http.Error(w, "sandbox page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(page.Bytes())
}

// RenderError writes the error page: the request is refused, with code.
func (p *Pages) RenderError(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, code, reason string) {
	p.Render(w, r, log, status, "error", errorPageData{Simulator: p.look.Name, Code: code, Reason: reason})
}

// WantsHTML tells a browser's form post from an API client: browsers ask for
// text/html, curl and test clients do not.
func WantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, "application/json")
}

// MaxForm bounds the forms simulators read.
const MaxForm = 1 << 20

// WriteJSON writes an API client's answer, as written: cashier's XML
// replies stay readable.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "sandbox: encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body.Bytes())
}
