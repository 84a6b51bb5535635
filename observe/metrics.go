// Package observe is the server's telemetry: Prometheus metrics, OpenTelemetry tracing
// (off unless the standard OTEL_* variables ask for it), request IDs and one structured
// log line per GraphQL operation. Nothing here logs tokens, e-mails or messages.
//
// observe imports nothing of this module.
package observe

import (
	"database/sql"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector, registered on its own registry (no global state).
type Metrics struct {
	Registry *prometheus.Registry

	Operations      *prometheus.CounterVec   // by operation name, type
	OperationTime   *prometheus.HistogramVec // by operation type
	Errors          *prometheus.CounterVec   // by code
	SQLStatements   prometheus.Counter
	HTTPRequests    *prometheus.CounterVec // by route, status class
	Connections     *prometheus.GaugeVec   // by transport (websocket, sse)
	FanoutLag       prometheus.Histogram   // commit to delivery, seconds
	FanoutPayloads  *prometheus.CounterVec // subscription payloads executed, by field
	SlowDropped     prometheus.Counter
	DeadlineSweeps  *prometheus.CounterVec // by result (ok, error)
	DeadlineChanges prometheus.Counter
	RateLimited     prometheus.Counter
	QueriesPlanned  prometheus.Counter
	QueryFallbacks  *prometheus.CounterVec // by reason

	namesMu sync.Mutex
	names   map[string]bool
}

// maxOperationNames bounds the operation label's values: clients choose operation
// names, and an unbounded label would let them grow the metrics without end.
const maxOperationNames = 200

// operationLabel returns name while fewer than maxOperationNames names were seen, and
// "other" for new names after that. Only a caller with a credential (mayAdd) adds a
// name: the values are taken first come first served for the process's life, and a
// caller without one, anyone at all, could otherwise take them all with junk names and
// put every tenant's operations under "other". Its operations count under the names
// already added.
func (m *Metrics) operationLabel(name string, mayAdd bool) string {
	m.namesMu.Lock()
	defer m.namesMu.Unlock()
	if m.names[name] {
		return name
	}
	if !mayAdd || len(m.names) >= maxOperationNames || len(name) > 100 {
		return "other"
	}
	m.names[name] = true
	return name
}

// NewMetrics creates and registers the collectors, plus Go runtime and process
// statistics; WatchDB adds the database pool's.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		names:    map[string]bool{},
		Operations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_graphql_operations_total",
			Help: "GraphQL operations by operation name and type."}, []string{"operation", "type"}),
		OperationTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rc_graphql_operation_duration_seconds",
			Help: "GraphQL operation latency (subscriptions: until set up).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)},
			[]string{"operation", "type"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_graphql_errors_total",
			Help: "GraphQL errors by extensions.code."}, []string{"code"}),
		SQLStatements: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_sql_statements_total",
			Help: "SQL statements executed."}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_http_requests_total",
			Help: "HTTP requests by route and status class."}, []string{"route", "status"}),
		Connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rc_stream_connections",
			Help: "Open streaming connections by transport."}, []string{"transport"}),
		FanoutLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rc_fanout_lag_seconds",
			Help: "Time from an event's commit to its hand-over to a subscriber.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		FanoutPayloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_fanout_payloads_total",
			Help: "Subscription payloads executed and marshaled, by field: once per change and class of subscribers (same selection, same view), shared by the class's deliveries (rc_fanout_lag_seconds_count)."},
			[]string{"field"}),
		SlowDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_subscribers_dropped_total",
			Help: "Subscribers ended because they did not keep up."}),
		DeadlineSweeps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_deadline_sweeps_total",
			Help: "Deadline sweeps by result."}, []string{"result"}),
		DeadlineChanges: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_deadline_transitions_total",
			Help: "Cases transitioned by the deadline sweeper."}),
		RateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_rate_limited_total",
			Help: "Operations refused by the rate limiter."}),
		QueriesPlanned: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_query_planned_total",
			Help: "Query operations answered by the planned executor."}),
		QueryFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_query_fallbacks_total",
			Help: "Query operations the planned executor left to gqlgen's executor, by reason."}, []string{"reason"}),
	}
	r.MustRegister(m.Operations, m.OperationTime, m.Errors, m.SQLStatements, m.HTTPRequests, m.Connections,
		m.FanoutLag, m.FanoutPayloads, m.SlowDropped, m.DeadlineSweeps, m.DeadlineChanges, m.RateLimited,
		m.QueriesPlanned, m.QueryFallbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchDB registers the statistics of a database pool.
func (m *Metrics) WatchDB(db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, "main"))
}

// Handler serves the metrics in Prometheus's text format. It checks no credential:
// the caller decides where it is served and behind what (see app).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// ObserveFanout records one delivery of a change committed at committed.
func (m *Metrics) ObserveFanout(committed time.Time) {
	if m == nil {
		return
	}
	m.FanoutLag.Observe(time.Since(committed).Seconds())
}

// CountFanoutPayload counts one subscription payload executed for field.
func (m *Metrics) CountFanoutPayload(field string) {
	if m == nil {
		return
	}
	m.FanoutPayloads.WithLabelValues(field).Inc()
}

// WatchSubscriptions exports the active subscriptions, read from stats at each scrape,
// as rc_subscriptions{field="resolutionEventAdded"|"resolutionUpdated"}.
func (m *Metrics) WatchSubscriptions(stats func() (events, updates int)) {
	for _, f := range []struct {
		field string
		pick  func() float64
	}{
		{"resolutionEventAdded", func() float64 { e, _ := stats(); return float64(e) }},
		{"resolutionUpdated", func() float64 { _, u := stats(); return float64(u) }},
	} {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rc_subscriptions",
			Help: "Active subscriptions by field.", ConstLabels: prometheus.Labels{"field": f.field}}, f.pick))
	}
}

// WatchListen exports the change feed's LISTEN connection, read at each scrape:
// rc_listen_up (1 while it is up) and rc_listen_reconnects_total.
func (m *Metrics) WatchListen(up func() bool, reconnects func() int64) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rc_listen_up",
			Help: "1 when the PostgreSQL LISTEN connection is up (always 1 on SQLite)."}, func() float64 {
			if up() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rc_listen_reconnects_total",
			Help: "Times the LISTEN connection was re-established."}, func() float64 { return float64(reconnects()) }))
}

// SetInfo exports rc_info{engine="postgres"|"sqlite"} 1, so dashboards and tools can
// tell which database a process runs on.
func (m *Metrics) SetInfo(engine string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "rc_info", Help: "Process information.",
		ConstLabels: prometheus.Labels{"engine": engine}})
	g.Set(1)
	m.Registry.MustRegister(g)
}
