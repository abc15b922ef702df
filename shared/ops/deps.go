package ops

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// NATSCheck is ready while the connection is up (not reconnecting).
func NATSCheck(nc *nats.Conn) func(context.Context) error {
	return func(context.Context) error {
		if s := nc.Status(); s != nats.CONNECTED {
			return fmt.Errorf("nats connection %s", s)
		}
		return nil
	}
}

// PostgresCheck pings the pool.
func PostgresCheck(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		return nil
	}
}

// TemporalCheck asks the frontend for its health.
func TemporalCheck(c client.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal: %w", err)
		}
		return nil
	}
}

// ConsumerCheck is ready while the durable consumer exists on the stream.
func ConsumerCheck(js jetstream.JetStream, stream, durable string) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := js.Consumer(ctx, stream, durable); err != nil {
			return fmt.Errorf("consumer %s on %s: %w", durable, stream, err)
		}
		return nil
	}
}

// consumerLag reads a JetStream consumer's backlog from its info at scrape
// time, so the numbers are as fresh as the scrape and cost nothing between.
type consumerLag struct {
	js                                        jetstream.JetStream
	stream, durable                           string
	pending, ackPending, redelivered, waiting *prometheus.Desc
	up                                        *prometheus.Desc
}

// NewConsumerLag returns a collector of the consumer's num_pending (stored,
// not yet delivered), num_ack_pending (delivered, not yet acknowledged) and
// num_redelivered, labelled by stream and consumer.
func NewConsumerLag(js jetstream.JetStream, stream, durable string) prometheus.Collector {
	labels := prometheus.Labels{"stream": stream, "consumer": durable}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "consumer", name), help, nil, labels)
	}
	return &consumerLag{
		js: js, stream: stream, durable: durable,
		pending:     desc("num_pending", "Messages in the stream not yet delivered to the consumer."),
		ackPending:  desc("num_ack_pending", "Messages delivered to the consumer and not yet acknowledged."),
		redelivered: desc("num_redelivered", "Messages delivered more than once and not yet acknowledged."),
		waiting:     desc("num_waiting", "Pull requests waiting for messages."),
		up:          desc("info_up", "1 when the consumer's info could be read at this scrape."),
	}
}

func (c *consumerLag) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.ackPending, c.redelivered, c.waiting, c.up} {
		ch <- d
	}
}

func (c *consumerLag) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), CheckTimeout)
	defer cancel()
	cons, err := c.js.Consumer(ctx, c.stream, c.durable)
	var info *jetstream.ConsumerInfo
	if err == nil {
		info, err = cons.Info(ctx)
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(info.NumPending))
	ch <- prometheus.MustNewConstMetric(c.ackPending, prometheus.GaugeValue, float64(info.NumAckPending))
	ch <- prometheus.MustNewConstMetric(c.redelivered, prometheus.GaugeValue, float64(info.NumRedelivered))
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(info.NumWaiting))
}
