package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/channel/wechat"
	"cashier/jobs"
	"cashier/webhook"
)

// openAPIDoc is the part of the description the tests look at.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		Parameters      map[string]openAPIParam    `json:"parameters"`
		Responses       map[string]openAPIResponse `json:"responses"`
	} `json:"components"`
}

// openAPIResponse is the part of a response object the tests look at.
type openAPIResponse struct {
	Ref     string                     `json:"$ref"`
	Headers map[string]json.RawMessage `json:"headers"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openAPIParam             `json:"parameters"`
	Security    []map[string][]string      `json:"security"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type openAPIParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func parseOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info needs a title and a version, got %+v", doc.Info)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("openapi.json has no paths")
	}
	return &doc
}

// operations returns the documented operations of a path item by method.
func operations(t *testing.T, item map[string]json.RawMessage) map[string]openAPIOperation {
	t.Helper()
	ops := map[string]openAPIOperation{}
	for _, m := range httpMethods {
		raw, ok := item[m]
		if !ok {
			continue
		}
		var op openAPIOperation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("operation %s: %v", m, err)
		}
		ops[m] = op
	}
	return ops
}

// route is one pattern registered on the mux.
type route struct {
	file   string
	method string // "" matches every method
	path   string // in OpenAPI's spelling
	user   bool   // wrapped in the bearer-token check, user(
	admin  bool   // wrapped in the admin-token check, admin(
	once   bool   // wrapped in the Idempotency-Key check, once(, inside the token check
}

var (
	muxCall    = regexp.MustCompile(`\bmux\.Handle(?:Func)?\(`)
	muxPattern = regexp.MustCompile(`\bmux\.Handle(?:Func)?\(\s*"([^"]*)"\s*,\s*(user\(|admin\()?\s*(once\()?`)
	// wildcards of ServeMux patterns: {name}, {name...} and {$}
	muxWildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)?(\.\.\.)?(\$)?\}`)
	pathParam   = regexp.MustCompile(`\{([^}]+)\}`)
)

// routesIn reads the patterns registered in the Go source files matching glob.
// Every registration must use a string literal, so that none escapes the check.
func routesIn(t *testing.T, glob string) []route {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", glob, err)
	}
	var routes []route
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		calls := len(muxCall.FindAllIndex(src, -1))
		found := muxPattern.FindAllSubmatch(src, -1)
		if len(found) != calls {
			t.Errorf("%s: %d mux.Handle calls but %d with a literal pattern: register routes with string literals so that this test can check them", file, calls, len(found))
		}
		for _, m := range found {
			pattern := string(m[1])
			method, path, ok := strings.Cut(pattern, " ")
			if !ok {
				method, path = "", pattern
			}
			path = strings.TrimSpace(path)
			if i := strings.Index(path, "/"); i > 0 { // a host before the path
				path = path[i:]
			}
			path = muxWildcard.ReplaceAllStringFunc(path, func(w string) string {
				sub := muxWildcard.FindStringSubmatch(w)
				if sub[3] != "" {
					return ""
				}
				return "{" + sub[1] + "}"
			})
			routes = append(routes, route{file: filepath.Base(file), method: strings.ToLower(method), path: path,
				user: string(m[2]) == "user(", admin: string(m[2]) == "admin(", once: string(m[3]) == "once("})
		}
	}
	return routes
}

// servedRoutes are the routes of addRoutes and of the sandbox, plus
// GET /openapi.json itself; the catch-all "/" is left out.
func servedRoutes(t *testing.T) []route {
	t.Helper()
	var routes []route
	found := routesIn(t, "routes.go")
	found = append(found, routesIn(t, filepath.Join("..", "sandbox", "*.go"))...)
	found = append(found, routesIn(t, filepath.Join("..", "sandbox", "*", "*.go"))...)
	for _, r := range found {
		if r.path != "/" {
			routes = append(routes, r)
		}
	}
	if !slices.ContainsFunc(routes, func(r route) bool { return r.path == "/openapi.json" }) {
		// Required even before routes.go registers it, so that the
		// coverage check below fails until it does.
		routes = append(routes, route{file: "(required)", method: "get", path: "/openapi.json"})
	}
	return routes
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := parseOpenAPI(t)
	routes := servedRoutes(t)
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in routes.go and sandbox/: is the pattern regexp out of date?", len(routes))
	}
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(`"GET /openapi.json"`)) {
		t.Errorf(`routes.go does not register "GET /openapi.json" (add mux.Handle("GET /openapi.json", handleOpenAPI()))`)
	}
	for _, r := range routes {
		item, ok := doc.Paths[r.path]
		if !ok {
			t.Errorf("%s: %s %s is not in openapi.json's paths", r.file, strings.ToUpper(r.method), r.path)
			continue
		}
		ops := operations(t, item)
		want := r.method
		if want == "" {
			want = "post" // a pattern without a method: at least the channels' POST
		}
		op, ok := ops[want]
		if !ok {
			t.Errorf("%s: %s %s is not documented (openapi.json has %v)", r.file, strings.ToUpper(want), r.path, slices.Sorted(maps.Keys(ops)))
			continue
		}
		if got := slices.ContainsFunc(op.Security, func(s map[string][]string) bool { _, ok := s["bearerAuth"]; return ok }); got != r.user {
			t.Errorf("%s %s: bearerAuth documented = %v, but the route's user check = %v", strings.ToUpper(want), r.path, got, r.user)
		}
		if got := slices.ContainsFunc(op.Security, func(s map[string][]string) bool { _, ok := s["adminToken"]; return ok }); got != r.admin {
			t.Errorf("%s %s: adminToken documented = %v, but the route's admin check = %v", strings.ToUpper(want), r.path, got, r.admin)
		}
		if r.admin && !onlyAdminToken(op.Security) {
			t.Errorf("%s %s: an admin route takes the admin token and nothing else: security must be [{\"adminToken\": []}], not %v", strings.ToUpper(want), r.path, op.Security)
		}
		checkIdempotency(t, doc, strings.ToUpper(want)+" "+r.path, op, r.once)
	}
	// And the other way round: nothing is documented that is not served.
	for path, item := range doc.Paths {
		for method := range operations(t, item) {
			served := slices.ContainsFunc(routes, func(r route) bool {
				return r.path == path && (r.method == "" || r.method == method || (r.method == "get" && method == "head"))
			})
			if !served {
				t.Errorf("openapi.json documents %s %s, which no route serves", strings.ToUpper(method), path)
			}
		}
	}
}

// checkIdempotency checks that an operation documents the Idempotency-Key
// header exactly when its route wraps its handler in once(; an operation
// that honours the key must also document the 409 of a reused or busy key,
// and the Idempotent-Replayed header of replays on every success response.
func checkIdempotency(t *testing.T, doc *openAPIDoc, where string, op openAPIOperation, once bool) {
	t.Helper()
	documented := slices.ContainsFunc(op.Parameters, func(p openAPIParam) bool {
		if p.Ref != "" {
			p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		}
		return p.In == "header" && http.CanonicalHeaderKey(p.Name) == IdempotencyHeader
	})
	if documented != once {
		t.Errorf("%s: %s header documented = %v, but the route's once( = %v", where, IdempotencyHeader, documented, once)
	}
	if !once {
		return
	}
	if _, ok := op.Responses["409"]; !ok {
		t.Errorf("%s honours %s but documents no 409 (key reused for another request, or still in progress)", where, IdempotencyHeader)
	}
	successes := 0
	for code, raw := range op.Responses {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		successes++
		var resp openAPIResponse
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatalf("%s %s: %v", where, code, err)
		}
		if resp.Ref != "" {
			resp = doc.Components.Responses[strings.TrimPrefix(resp.Ref, "#/components/responses/")]
		}
		if _, ok := resp.Headers["Idempotent-Replayed"]; !ok {
			t.Errorf("%s %s: a replayed answer carries Idempotent-Replayed, which is not documented", where, code)
		}
	}
	if successes == 0 {
		t.Errorf("%s documents no success response", where)
	}
}

// onlyAdminToken reports whether a security requirement list asks for the
// admin token and for nothing else: no other scheme beside it, no alternative
// to it, and no empty requirement that would make it optional.
func onlyAdminToken(security []map[string][]string) bool {
	if len(security) == 0 {
		return false
	}
	for _, req := range security {
		scopes, ok := req["adminToken"]
		if !ok || len(req) != 1 || len(scopes) != 0 {
			return false
		}
	}
	return true
}

func TestOpenAPIDocumentIsConsistent(t *testing.T) {
	doc := parseOpenAPI(t)
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Error("components.securitySchemes has no bearerAuth")
	}
	var adminToken struct {
		Type   string `json:"type"`
		Scheme string `json:"scheme"`
	}
	if raw, ok := doc.Components.SecuritySchemes["adminToken"]; !ok {
		t.Error("components.securitySchemes has no adminToken")
	} else if err := json.Unmarshal(raw, &adminToken); err != nil || adminToken.Type != "http" || !strings.EqualFold(adminToken.Scheme, "bearer") {
		t.Errorf("components.securitySchemes.adminToken is not an http bearer scheme: %s", raw)
	}
	var whole any
	if err := json.Unmarshal(openAPIJSON, &whole); err != nil {
		t.Fatal(err)
	}
	// Every local $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, err := resolvePointer(whole, ref); err != nil {
					t.Errorf("$ref %q: %v", ref, err)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(whole)

	ids := map[string]string{}
	for path, item := range doc.Paths {
		var inTemplate []string
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		for method, op := range operations(t, item) {
			where := strings.ToUpper(method) + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", where)
			}
			var declared []string
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "path" {
					declared = append(declared, p.Name)
				}
			}
			slices.Sort(declared)
			want := slices.Sorted(slices.Values(inTemplate))
			if !slices.Equal(declared, want) {
				t.Errorf("%s declares path parameters %v, its template has %v", where, declared, want)
			}
		}
	}
}

// resolvePointer follows a local JSON pointer ("#/a/b") in doc.
func resolvePointer(doc any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, errNotLocal
	}
	cur := doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, errBadPointer
		}
		if cur, ok = m[tok]; !ok {
			return nil, errBadPointer
		}
	}
	return cur, nil
}

var (
	errNotLocal   = errors.New("not a local reference")
	errBadPointer = errors.New("does not resolve")
)

func TestOpenAPIHandler(t *testing.T) {
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, openAPIJSON) {
		t.Fatal("the embedded description differs from openapi.json")
	}
	rec := httptest.NewRecorder()
	handleOpenAPI().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control = %q, want public, max-age=300", cc)
	}
	if !bytes.Equal(rec.Body.Bytes(), onDisk) {
		t.Errorf("body (%d bytes) is not openapi.json (%d bytes)", rec.Body.Len(), len(onDisk))
	}
}

// TestOpenAPIDocumentsWeChatCredentials checks the object-shaped credentials
// of the wechat channel field for field against the types the channel
// encodes: clients read them by name, so a renamed or added field must show
// up in the description.
func TestOpenAPIDocumentsWeChatCredentials(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Type       string                     `json:"type"`
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
				OneOf      []openAPIParam             `json:"oneOf"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	var branches []string
	for _, b := range schemas["PaymentCredential"].OneOf {
		branches = append(branches, strings.TrimPrefix(b.Ref, "#/components/schemas/"))
	}
	for name, v := range map[string]any{
		"WeChatAppCredential":    wechat.AppParams{},
		"WeChatScanCredentialV2": wechat.NativeOrder{},
		"WeChatScanCredentialV3": wechat.NativeCode{},
	} {
		s, ok := schemas[name]
		if !ok {
			t.Errorf("components.schemas has no %s (the %T credential)", name, v)
			continue
		}
		if !slices.Contains(branches, name) {
			t.Errorf("PaymentCredential.oneOf does not list %s", name)
		}
		if s.Type != "object" {
			t.Errorf("%s: type %q, want object", name, s.Type)
		}
		all, required := jsonFields(reflect.TypeOf(v))
		if got := slices.Sorted(maps.Keys(s.Properties)); !slices.Equal(got, all) {
			t.Errorf("%s documents properties %v, %T encodes %v", name, got, v, all)
		}
		if got := slices.Sorted(slices.Values(s.Required)); !slices.Equal(got, required) {
			t.Errorf("%s requires %v, %T always encodes %v", name, got, v, required)
		}
	}
}

// TestOpenAPIDocumentsResources checks the schemas of the resources field for
// field against the types the handlers encode, as the credentials above are
// checked: a renamed, added or dropped field must show up in the description.
func TestOpenAPIDocumentsResources(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Type       string                     `json:"type"`
				Nullable   bool                       `json:"nullable"`
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"Envelope":        envelope{},
		"ShopEnvelope":    shopEnvelope{},
		"ShopOrder":       shopOrder{},
		"Settlement":      settlementJSON{},
		"Order":           orderJSON{},
		"Item":            itemJSON{},
		"Payment":         paymentJSON{},
		"Package":         packageJSON{},
		"Coupon":          couponJSON{},
		"Product":         productJSON{},
		"Standard":        standardJSON{},
		"Scheme":          schemeJSON{},
		"CartItem":        cartItemJSON{},
		"Address":         addressJSON{},
		"NullableAddress": addressJSON{},
		"Refund":          refundJSON{},
		"Webhook":         webhookJSON{},
		"Delivery":        deliveryJSON{},
		"InboundMessage":  inboundJSON{},
	} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("components.schemas has no %s (the %T resource)", name, v)
			continue
		}
		if s.Type != "object" {
			t.Errorf("%s: type %q, want object", name, s.Type)
		}
		if want := name == "NullableAddress"; s.Nullable != want {
			t.Errorf("%s: nullable = %v, want %v", name, s.Nullable, want)
		}
		all, required := jsonFields(reflect.TypeOf(v))
		if got := slices.Sorted(maps.Keys(s.Properties)); !slices.Equal(got, all) {
			t.Errorf("%s documents properties %v, %T encodes %v", name, got, v, all)
		}
		if got := slices.Sorted(slices.Values(s.Required)); !slices.Equal(got, required) {
			t.Errorf("%s requires %v, %T always encodes %v", name, got, v, required)
		}
	}
}

// TestOpenAPIDocumentsResourceLists checks that the arrays of resources inside
// resources name their schemas, so that the checks above cover them too.
func TestOpenAPIDocumentsResourceLists(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type  string       `json:"type"`
					Items openAPIParam `json:"items"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ schema, property, items string }{
		{"Order", "items", "Item"},
		{"Order", "payments", "Payment"},
		{"Order", "refunds", "Refund"},
		{"Product", "standards", "Standard"},
	} {
		p := doc.Components.Schemas[c.schema].Properties[c.property]
		if want := "#/components/schemas/" + c.items; p.Type != "array" || p.Items.Ref != want {
			t.Errorf("%s.%s is not an array of %s (type %q, items %q)", c.schema, c.property, want, p.Type, p.Items.Ref)
		}
	}
}

// TestOpenAPIDescribesWebhooks checks the webhook section of the description
// against the code: the event types, the signature headers and the retry
// schedule.
func TestOpenAPIDescribesWebhooks(t *testing.T) {
	doc := parseOpenAPI(t)
	desc := doc.Info.Description
	for _, typ := range cashier.EventTypes {
		if !strings.Contains(desc, "`"+typ+"`") {
			t.Errorf("info.description does not name the event type %s", typ)
		}
	}
	for _, h := range []string{webhook.SignatureHeader, "Cashier-Event-Id", "Cashier-Event-Type", "webhook_timeout"} {
		if !strings.Contains(desc, h) {
			t.Errorf("info.description does not mention %s", h)
		}
	}
	var waits []string
	var total time.Duration
	for _, d := range jobs.WebhookSchedule {
		waits = append(waits, shortDuration(d))
		total += d
	}
	for _, want := range []string{
		strings.Join(waits, ", "),
		fmt.Sprintf("%d retries", len(jobs.WebhookSchedule)),
		fmt.Sprintf("%d attempts", len(jobs.WebhookSchedule)+1),
		shortDuration(total),
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("info.description's retry schedule does not say %q (jobs.WebhookSchedule)", want)
		}
	}

	var schemas struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &schemas); err != nil {
		t.Fatal(err)
	}
	if got := schemas.Components.Schemas["EventType"].Enum; !slices.Equal(got, cashier.EventTypes) {
		t.Errorf("EventType enumerates %v, cashier.EventTypes is %v", got, cashier.EventTypes)
	}
}

// shortDuration writes d as time.Duration does, without zero minutes or
// seconds: 30s, 1m, 2h, 31h8m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// jsonFields returns the JSON names of struct type t's fields, sorted: all
// of them, and those encoded even when empty (no omitempty or omitzero).
func jsonFields(t reflect.Type) (all, always []string) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") && !slices.Contains(strings.Split(opts, ","), "omitzero") {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	slices.Sort(always)
	return all, always
}
