package ports

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/shared/ops"
)

// unmatchedRoute labels requests that matched no route, so scanners probing
// random paths cannot blow up the metrics' cardinality.
const unmatchedRoute = "unmatched"

// observer records every request as a server span (continuing a W3C
// traceparent the client sent) and as Prometheus metrics labelled by route
// template, never by the raw path.
type observer struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tracer   trace.Tracer

	once   sync.Once
	routes map[string]bool
}

func newObserver(reg prometheus.Registerer) *observer {
	o := &observer{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ops.Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help: "HTTP request latency by method and route template.", Buckets: ops.LatencyBuckets,
		}, []string{"method", "route"}),
		tracer: otel.Tracer("github.com/orderflow/orderflow/services/api"),
	}
	if reg != nil {
		reg.MustRegister(o.requests, o.duration)
	}
	return o
}

// middleware must run outside requestLogger, which settles errors into the
// response, so the status seen here is the one the client gets and the
// request's log line carries the span's IDs.
func (o *observer) middleware(c *fiber.Ctx) error {
	start := time.Now()
	hdr := propagation.HeaderCarrier{}
	for k, v := range c.Request().Header.All() {
		hdr.Set(string(k), string(v))
	}
	ctx := otel.GetTextMapPropagator().Extract(c.UserContext(), hdr)
	ctx, span := o.tracer.Start(ctx, c.Method(), trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	c.SetUserContext(ctx)

	if err := c.Next(); err != nil {
		// Settle the error into the response now, so the status recorded
		// is the one sent (requestLogger does this inside the app).
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}

	route := o.route(c)
	status := c.Response().StatusCode()
	span.SetName(c.Method() + " " + route)
	span.SetAttributes(attribute.String("http.request.method", c.Method()), attribute.String("http.route", route),
		attribute.Int("http.response.status_code", status))
	if id := c.Params("order_id"); id != "" {
		span.SetAttributes(attribute.String("order.id", id))
	}
	if status >= fiber.StatusInternalServerError {
		span.SetStatus(codes.Error, strconv.Itoa(status))
	}
	o.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Inc()
	o.duration.WithLabelValues(c.Method(), route).Observe(time.Since(start).Seconds())
	return nil
}

// route is the matched route's template (/orders/:order_id/start), or
// unmatchedRoute.
func (o *observer) route(c *fiber.Ctx) string {
	o.once.Do(func() {
		o.routes = map[string]bool{}
		for _, r := range c.App().GetRoutes(true) {
			o.routes[r.Method+" "+r.Path] = true
		}
	})
	if r := c.Route(); r != nil && o.routes[c.Method()+" "+r.Path] {
		return r.Path
	}
	return unmatchedRoute
}
