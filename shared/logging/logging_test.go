package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/shared/config"
)

func TestTraceIDsInLogLines(t *testing.T) {
	var buf bytes.Buffer
	log := NewTo(&buf, "svc", config.Log{Format: "json"}).With(KeyOrderID, "o-1").WithGroup("g")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0xab}, SpanID: trace.SpanID{0xcd}})
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), sc), "with span")
	log.InfoContext(context.Background(), "without span")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var with, without map[string]any
	_ = json.Unmarshal(lines[0], &with)
	_ = json.Unmarshal(lines[1], &without)
	g, _ := with["g"].(map[string]any)
	if g[KeyTraceID] != sc.TraceID().String() || g[KeySpanID] != sc.SpanID().String() || with[KeyOrderID] != "o-1" {
		t.Fatalf("line with span: %s", lines[0])
	}
	if _, ok := without[KeyTraceID]; ok {
		t.Fatalf("trace_id on a line without span: %s", lines[1])
	}
}
