package ports

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestObserverLabelsByRouteTemplateAndContinuesTrace: metrics carry the
// route template, never the raw path (an unknown path is "unmatched"), and
// the request's span continues the client's traceparent.
func TestObserverLabelsByRouteTemplateAndContinuesTrace(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	reg := prometheus.NewRegistry()
	o := newObserver(reg)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(o.middleware)
	app.Get("/orders/:order_id", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusOK) })

	for _, path := range []string{"/orders/a", "/orders/b", "/wp-admin/x"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if _, err := app.Test(req); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(o.requests.WithLabelValues("GET", "/orders/:order_id", "200")); got != 2 {
		t.Errorf("requests for the route template: %v, want 2", got)
	}
	if got := testutil.ToFloat64(o.requests.WithLabelValues("GET", unmatchedRoute, "404")); got != 1 {
		t.Errorf("unmatched requests: %v, want 1", got)
	}
	if n := testutil.CollectAndCount(o.requests); n != 2 {
		t.Errorf("%d request series, want 2 (no raw paths)", n)
	}
	ended := spans.Ended()
	if len(ended) != 3 {
		t.Fatalf("%d spans, want 3", len(ended))
	}
	s := ended[0]
	if s.Name() != "GET /orders/:order_id" || s.Parent().SpanID().String() != "00f067aa0ba902b7" ||
		s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("span %q parent %s trace %s; want the route's name under the client's span", s.Name(), s.Parent().SpanID(), s.SpanContext().TraceID())
	}
	if !strings.HasSuffix(ended[2].Name(), unmatchedRoute) {
		t.Errorf("unknown path span named %q", ended[2].Name())
	}
}
