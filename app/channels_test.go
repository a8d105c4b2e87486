package app_test

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"cashier"
	"cashier/api"
	"cashier/app"
	"cashier/channel"
)

// The list is sound: names and prefixes unique, every function set, every
// name one of the order API's.
func TestChannelList(t *testing.T) {
	specs := app.Channels()
	if err := channel.Check(specs); err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if !slices.Contains(cashier.OrderAPIChannels(), s.Name) {
			t.Errorf("%s is not a channel of the order API", s.Name)
		}
	}
}

// The OpenAPI description says which channels this version has: the same
// as the list, and the order API's others in the Channel enum.
func TestOpenAPINamesTheListedChannels(t *testing.T) {
	rec := httptest.NewRecorder()
	api.NewServer(api.Config{}).ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Description string   `json:"description"`
				Enum        []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["Channel"]
	if !slices.Equal(schema.Enum, cashier.OrderAPIChannels()) {
		t.Errorf("Channel enum %v, want the order API's %v", schema.Enum, cashier.OrderAPIChannels())
	}
	m := regexp.MustCompile(`Built in this version: ([^.]*)\.`).FindStringSubmatch(schema.Description)
	if m == nil {
		t.Fatalf("Channel's description does not say which channels are built: %q", schema.Description)
	}
	var listed []string
	for _, s := range app.Channels() {
		listed = append(listed, "`"+s.Name+"`")
	}
	if got := m[1]; got != strings.Join(listed, ", ") {
		t.Errorf("openapi.json says built: %s; the list has %s", got, strings.Join(listed, ", "))
	}
}
