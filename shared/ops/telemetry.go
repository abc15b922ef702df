package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// LatencyBuckets (seconds) cover a millisecond-scale call up to an order's
// whole 15 s budget and beyond, so one set serves every latency histogram.
var LatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 12.5, 15, 20, 30, 60}

// Telemetry is a service's OpenTelemetry setup: the global tracer provider
// and propagator, and a meter provider that feeds the Prometheus registry
// (used for the Temporal SDK's metrics).
type Telemetry struct {
	// Exporting reports whether spans leave the process (an OTLP endpoint
	// is configured).
	Exporting bool
	tp        *sdktrace.TracerProvider
	mp        *sdkmetric.MeterProvider
}

// SetupTelemetry installs the W3C trace-context propagator and a tracer
// provider configured by the standard OTEL_* variables: spans are exported
// over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is
// set and OTEL_TRACES_EXPORTER is not "none"; otherwise they are still
// created, so trace IDs reach logs and message headers, but go nowhere.
// OTEL_SDK_DISABLED=true leaves OpenTelemetry's no-op provider in place.
// The protocol follows OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: grpc, or
// http/protobuf (the default).
func SetupTelemetry(ctx context.Context, service string, reg prometheus.Registerer) (*Telemetry, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t := &Telemetry{}

	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp),
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: LatencyBuckets}})))

	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return t, nil
	}
	res, err := resource.Merge(resource.Default(),
		resource.NewSchemaless(attribute.String("service.name", service)))
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	if env, err := resource.New(ctx, resource.WithFromEnv()); err == nil {
		// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults.
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if endpointSet() && !strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") {
		exporter, err := otlpExporter(ctx)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exporter))
		t.Exporting = true
	}
	t.tp = sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(t.tp)
	return t, nil
}

func endpointSet() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

func otlpExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch proto {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported (grpc or http/protobuf)", proto)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	return exp, nil
}

// TemporalMetrics is the Temporal SDK's metrics handler feeding the
// Prometheus registry: workflow and activity attempts, failures and
// latencies by type, poller and sticky-cache state.
func (t *Telemetry) TemporalMetrics() client.MetricsHandler {
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{Meter: t.mp.Meter("temporal-sdk-go")})
}

// Shutdown flushes spans still buffered for export; call it last.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.tp != nil {
		errs = append(errs, t.tp.Shutdown(ctx))
	}
	errs = append(errs, t.mp.Shutdown(ctx))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry shutdown: %w", err)
	}
	return nil
}

// Run is a service main's frame: it sets up telemetry, starts the ops
// listener on addr, runs run with both, then stops the listener and flushes
// spans, each within timeout.
func Run(ctx context.Context, service, addr string, timeout time.Duration, log *slog.Logger, run func(ctx context.Context, srv *Server, tel *Telemetry) error) error {
	srv := New(service, log)
	tel, err := SetupTelemetry(ctx, service, srv.Registry())
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil {
			log.Warn("telemetry shutdown", "error", err)
		}
	}()
	log.Info("telemetry", "otlp_export", tel.Exporting)
	return srv.Around(ctx, addr, timeout, func(ctx context.Context) error { return run(ctx, srv, tel) })
}
