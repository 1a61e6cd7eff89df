package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/server"
)

// instruments are the node's running measurements, on a registry of their own (never the
// process-wide default one): HTTP requests by route template, method and status class; chat
// messages stored, their ack and delivery latencies and group-commit batches; open sockets and
// queued deliveries; the Go runtime and the process. Their labels are bounded kinds only — a
// route template, never a URL; a sender's kind, never a tenant, a person or an address.
//
// They implement server.RequestObserver and chat.Metrics; the chat engine and its transport are
// read at scrape time (OpenSockets, PendingDeliveries) through the functions set by watchChat.
type instruments struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	messages  *prometheus.CounterVec
	ack       *prometheus.HistogramVec
	delivery  *prometheus.HistogramVec
	batchSize prometheus.Histogram

	// sockets and queued read the chat transport and engine once they exist (nil before).
	sockets func(kind string) int64
	queued  func() int
}

var (
	_ server.RequestObserver = (*instruments)(nil)
	_ chat.Metrics           = (*instruments)(nil)
)

// latencyBuckets run from 0.5 ms to about 16 s, doubling.
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 16)

func newInstruments() *instruments {
	in := &instruments{registry: prometheus.NewRegistry()}
	in.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_http_requests_total",
		Help: "HTTP requests answered, by method, route template (\"unmatched\" when no route matched) and status class.",
	}, []string{"method", "route", "status"})
	in.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method, route template and status class (WebSocket upgrades, whose time is the socket's life, are left out).",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	in.messages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_chat_messages_total",
		Help: "Chat messages stored and committed on this node, by sender kind (duplicates of a retried key are not counted).",
	}, []string{"sender"})
	in.ack = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_chat_message_ack_seconds",
		Help:    "Time from the chat engine taking a message to its commit, after which its ack is written, by sender kind.",
		Buckets: latencyBuckets,
	}, []string{"sender"})
	in.delivery = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_chat_message_delivery_seconds",
		Help:    "Time from a message being stored to its hand-over to a live socket of this node, by receiver kind.",
		Buckets: latencyBuckets,
	}, []string{"receiver"})
	in.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_chat_commit_batch_size",
		Help:    "Messages stored by one group-commit transaction.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 10),
	})
	sockets := prometheus.NewDesc("parley_chat_sockets_open", "Chat WebSockets open on this node, by kind (visitor, agent).", []string{"kind"}, nil)
	in.registry.MustRegister(
		in.requests, in.requestDuration, in.messages, in.ack, in.delivery, in.batchSize,
		gaugesFunc{desc: sockets, collect: func(ch chan<- prometheus.Metric) {
			for _, kind := range chathttp.SocketKinds {
				var n int64
				if in.sockets != nil {
					n = in.sockets(kind)
				}
				ch <- prometheus.MustNewConstMetric(sockets, prometheus.GaugeValue, float64(n), kind)
			}
		}},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_chat_delivery_queue_length",
			Help: "Message deliveries (fan-outs, amends) queued behind their acks on this node and not yet started.",
		}, func() float64 {
			if in.queued == nil {
				return 0
			}
			return float64(in.queued())
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Every kind shows from the start, so a rate is defined before the first message.
	for _, k := range []string{chat.SenderVisitor, chat.SenderAgent} {
		in.messages.WithLabelValues(k)
	}
	return in
}

// watchChat reads the open sockets and queued deliveries of the chat transport and engine.
func (in *instruments) watchChat(s *chat.Service, m *chathttp.Module) {
	in.queued, in.sockets = s.PendingDeliveries, m.OpenSockets
}

// ObserveRequest implements server.RequestObserver.
func (in *instruments) ObserveRequest(method, route string, status int, took time.Duration) {
	class := statusClass(status)
	in.requests.WithLabelValues(method, route, class).Inc()
	if status != 101 {
		in.requestDuration.WithLabelValues(method, route, class).Observe(took.Seconds())
	}
}

// MessageStored implements chat.Metrics.
func (in *instruments) MessageStored(senderKind string, took time.Duration) {
	k := participantKind(senderKind)
	in.messages.WithLabelValues(k).Inc()
	in.ack.WithLabelValues(k).Observe(took.Seconds())
}

// MessageDelivered implements chat.Metrics.
func (in *instruments) MessageDelivered(receiverKind string, after time.Duration) {
	in.delivery.WithLabelValues(participantKind(receiverKind)).Observe(after.Seconds())
}

// BatchCommitted implements chat.Metrics.
func (in *instruments) BatchCommitted(size int) { in.batchSize.Observe(float64(size)) }

// statusClasses are the status label's values, by the status's first digit.
var statusClasses = [...]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass is "2xx" for 200–299 and so on; anything outside 100–599 is "other".
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return statusClasses[0]
	}
	return statusClasses[status/100]
}

// participantKind bounds a sender's or receiver's kind to visitor, agent or other.
func participantKind(kind string) string {
	switch kind {
	case chat.SenderVisitor, chat.SenderAgent:
		return kind
	}
	return "other"
}

// gaugesFunc is a collector of one family whose samples are read at scrape time.
type gaugesFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (g gaugesFunc) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }
func (g gaugesFunc) Collect(ch chan<- prometheus.Metric) { g.collect(ch) }
