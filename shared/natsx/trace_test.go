package natsx

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestTraceRoundTripsThroughHeaders(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	msg := &nats.Msg{Subject: "orders.events.o-1.received"}
	InjectTrace(trace.ContextWithSpanContext(context.Background(), sc), msg)
	// The W3C name, not Go's canonical "Traceparent": other consumers look
	// the header up by its exact name.
	if msg.Header.Get("traceparent") == "" {
		t.Fatalf("no traceparent header: %v", msg.Header)
	}
	got := trace.SpanContextFromContext(ExtractTrace(context.Background(), msg.Header))
	if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsRemote() {
		t.Fatalf("extracted %v, want %v (remote)", got, sc)
	}
	if c := ExtractTrace(context.Background(), nil); trace.SpanContextFromContext(c).IsValid() {
		t.Fatal("span context from no headers")
	}
}
