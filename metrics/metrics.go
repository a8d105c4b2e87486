// Package metrics exposes cashier to Prometheus: HTTP requests by route and
// status, and counts of orders, payments, refunds, channel messages and
// background jobs by state, read from the database at each scrape.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"cashier"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds cashier's registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	rejected *prometheus.CounterVec
}

// New registers cashier's metrics; stats and pool are read at each scrape.
// sandbox says whether any channel runs against its simulator.
func New(stats func(context.Context) (*cashier.Stats, error), pool func() cashier.PoolStats, sandbox bool, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cashier_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_notifications_rejected_total",
			Help: "Channel notifications rejected, by channel and reason: signature, malformed, not_ours, mismatch, " +
				"rate_limited (unverifiable and not recorded: too many from one address), too_large.",
		}, []string{"channel", "reason"}),
	}
	sandboxGauge := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cashier_sandbox_enabled",
		Help: "1 when a channel runs against its built-in simulator, which can mark its orders paid: never where real money is taken.",
	})
	if sandbox {
		sandboxGauge.Set(1)
	}
	m.reg.MustRegister(m.requests, m.duration, m.rejected, sandboxGauge, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &dbCollector{stats: stats, log: log},
		poolCollector(pool))
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest counts one HTTP request.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveRejected counts a rejected notification.
func (m *Metrics) ObserveRejected(channel, reason string) {
	m.rejected.WithLabelValues(channel, reason).Inc()
}

// dbCollector reads the database's counts at each scrape.
type dbCollector struct {
	stats func(context.Context) (*cashier.Stats, error)
	log   *slog.Logger
}

var (
	ordersDesc   = prometheus.NewDesc("cashier_orders", "Orders by status.", []string{"status"}, nil)
	paymentsDesc = prometheus.NewDesc("cashier_payments", "Payment attempts by status (needs_refund: money to give back).", []string{"status"}, nil)
	refundsDesc  = prometheus.NewDesc("cashier_refunds", "Refunds by status.", []string{"status"}, nil)
	inboundDesc  = prometheus.NewDesc("cashier_inbound_messages", "Recorded channel messages by outcome (rejected: failed verification or checks).", []string{"outcome"}, nil)
	jobsDesc     = prometheus.NewDesc("cashier_jobs", "Background jobs by state (retryable, discarded: look).", []string{"state"}, nil)
	upDesc       = prometheus.NewDesc("cashier_database_up", "1 when the database answered the last scrape.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{ordersDesc, paymentsDesc, refundsDesc, inboundDesc, jobsDesc, upDesc} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		c.log.Warn("metrics: could not read the database's counts", "err", err)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for _, g := range []struct {
		desc   *prometheus.Desc
		counts map[string]int64
	}{{ordersDesc, st.Orders}, {paymentsDesc, st.Payments}, {refundsDesc, st.Refunds}, {inboundDesc, st.Inbound}, {jobsDesc, st.Jobs}} {
		for k, n := range g.counts {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n), k)
		}
	}
}

var (
	connsDesc    = prometheus.NewDesc("cashier_db_connections", "This instance's database connections by state.", []string{"state"}, nil)
	maxConnsDesc = prometheus.NewDesc("cashier_db_connections_max", "The most database connections this instance opens (0: no limit).", nil, nil)
	waitsDesc    = prometheus.NewDesc("cashier_db_connection_waits_total", "Requests that had to wait for a database connection.", nil, nil)
	waitTimeDesc = prometheus.NewDesc("cashier_db_connection_wait_seconds_total", "Time spent waiting for database connections.", nil, nil)
)

// poolCollector reads the connection pool at each scrape.
type poolCollector func() cashier.PoolStats

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{connsDesc, maxConnsDesc, waitsDesc, waitTimeDesc} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c()
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(st.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(st.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(maxConnsDesc, prometheus.GaugeValue, float64(st.Max))
	ch <- prometheus.MustNewConstMetric(waitsDesc, prometheus.CounterValue, float64(st.Waits))
	ch <- prometheus.MustNewConstMetric(waitTimeDesc, prometheus.CounterValue, st.WaitTime.Seconds())
}
