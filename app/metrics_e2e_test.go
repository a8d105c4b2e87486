package app_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"cashier/app"
	"cashier/sqlstore/storetest"
)

// /metrics shows requests by route (not by raw path) and the database's counts.
func TestMetrics(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		id, _ := h.mustBuy("app", nil)
		h.pay("alipay", h.lastOutTradeNo(id))
		h.mustBuy("app", nil)
		h.get("/api/v1/orders/"+id, h.token)
		h.notify("garbage=1")
		resp, err := http.Get(h.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(b)
		for _, want := range []string{
			`cashier_database_up 1`,
			`cashier_orders{status="paid"} 1`,
			`cashier_orders{status="pending"} 1`,
			`cashier_payments{status="paid"} 1`,
			`cashier_inbound_messages{outcome="applied"} 1`,
			`cashier_inbound_messages{outcome="rejected"} 1`,
			`cashier_jobs{state="scheduled"}`,
			`cashier_http_requests_total{code="200",route="POST /api/v1/order"} 2`,
			`cashier_http_requests_total{code="200",route="GET /api/v1/orders/{id}"}`,
			`go_goroutines`,
			`cashier_http_request_duration_seconds_bucket{route="POST /api/v1/order",le="+Inf"} 2`,
			`cashier_db_connections{state="idle"}`,
			`cashier_db_connection_waits_total`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if !regexp.MustCompile(`(?m)^cashier_db_connections_max [1-9]`).MatchString(text) {
			t.Error("/metrics does not say how many database connections this instance opens")
		}
		if strings.Contains(text, `route="GET /api/v1/orders/`+id+`"`) {
			t.Error("a raw path became a label")
		}
	})
}

// The database section of the configuration reaches the connections: the
// pool's size (as /metrics reports it), PostgreSQL's statement timeout and
// SQLite's synchronous setting.
func TestDatabaseSettings(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarnessWith(t, dsn, func(c *app.Config) {
			c.Database = app.DatabaseConfig{MaxConns: 3, StatementTimeout: app.Duration(7 * time.Second), SQLiteSynchronous: "normal"}
		}, app.Options{})
		resp, err := http.Get(h.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "\ncashier_db_connections_max 3\n") {
			t.Error("/metrics does not report the 3 connections configured")
		}
		db := h.app.Store.SQL()
		if strings.HasPrefix(dsn, "postgres") {
			var timeout string
			if err := db.QueryRow("SHOW statement_timeout").Scan(&timeout); err != nil || timeout != "7s" {
				t.Errorf("statement_timeout %q, %v; want 7s", timeout, err)
			}
			return
		}
		var sync int
		if err := db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 1 {
			t.Errorf("synchronous %d, %v; want 1 (normal)", sync, err)
		}
	})
}
