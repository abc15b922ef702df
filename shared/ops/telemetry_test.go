package ops

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"
)

// setupTelemetry is SetupTelemetry for test t, shut down when t ends.
func setupTelemetry(t *testing.T, reg prometheus.Registerer) *Telemetry {
	t.Helper()
	tel, err := SetupTelemetry(context.Background(), "test", reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func TestSetupTelemetryWithoutEndpointCreatesSpansButExportsNothing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_SDK_DISABLED", "")
	tel := setupTelemetry(t, prometheus.NewRegistry())
	if tel.Exporting {
		t.Fatal("exporting with no OTLP endpoint set")
	}
	_, span := otel.Tracer("t").Start(context.Background(), "x")
	defer span.End()
	if !span.SpanContext().IsValid() {
		t.Fatal("no trace ID without an endpoint; logs and headers need one")
	}
}

func TestSetupTelemetryEndpointAndProtocol(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	for proto, ok := range map[string]bool{"": true, "http/protobuf": true, "grpc": true, "thrift": false} {
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
		tel, err := SetupTelemetry(context.Background(), "test", prometheus.NewRegistry())
		if (err == nil) != ok {
			t.Fatalf("protocol %q: err %v, want ok=%v", proto, err, ok)
		}
		if err == nil {
			if !tel.Exporting {
				t.Errorf("protocol %q: endpoint set but not exporting", proto)
			}
			_ = tel.Shutdown(context.Background())
		}
	}
}

func TestSetupTelemetryDisabled(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "true")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	// A fresh no-op provider: an earlier test may have installed an SDK one.
	otel.SetTracerProvider(noop.NewTracerProvider())
	tel := setupTelemetry(t, prometheus.NewRegistry())
	if tel.Exporting {
		t.Fatal("exporting although OTEL_SDK_DISABLED=true")
	}
	if _, span := otel.Tracer("t").Start(context.Background(), "x"); span.SpanContext().IsValid() {
		t.Fatal("OTEL_SDK_DISABLED=true still records spans")
	}
}

func TestTemporalMetricsLandInRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	tel := setupTelemetry(t, reg)
	tel.TemporalMetrics().WithTags(map[string]string{"workflow_type": "OrderWorkflow"}).Counter("workflow_completed").Inc(2)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "workflow_completed" || f.GetName() == "temporal_workflow_completed" {
			return
		}
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	t.Fatalf("Temporal counter not in the registry; have %v", names)
}
