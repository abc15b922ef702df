package ops

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestReadyzReflectsChecksAndShutdown(t *testing.T) {
	s := New("test", slog.New(slog.DiscardHandler))
	var natsErr error
	s.AddCheck("nats", func(context.Context) error { return natsErr })
	s.AddCheck("postgres", func(context.Context) error { return nil })
	h := s.Handler()

	if code, body := get(t, h, "/readyz"); code != http.StatusOK || !strings.Contains(body, "nats: ok") {
		t.Fatalf("all checks pass: %d %q", code, body)
	}
	natsErr = errors.New("connection RECONNECTING")
	code, body := get(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "nats: connection RECONNECTING") || !strings.Contains(body, "postgres: ok") {
		t.Fatalf("failing check: %d %q, want 503 naming it", code, body)
	}
	natsErr = nil
	s.Drain()
	if code, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("draining: %d, want 503", code)
	}
	if code, _ := get(t, h, "/livez"); code != http.StatusOK {
		t.Fatalf("livez while draining: %d, want 200", code)
	}
}

func TestReadyzTimesOutAHungCheck(t *testing.T) {
	s := New("test", slog.New(slog.DiscardHandler))
	s.AddCheck("temporal", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	code, body := get(t, s.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "deadline exceeded") {
		t.Fatalf("hung check: %d %q", code, body)
	}
}

func TestMetricsServesRegistry(t *testing.T) {
	s := New("test", slog.New(slog.DiscardHandler))
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "things_total", Help: "Things."})
	s.Registry().MustRegister(c)
	c.Add(3)
	code, body := get(t, s.Handler(), "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "orderflow_things_total 3") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics: %d, body lacks the counter or runtime metrics:\n%s", code, body)
	}
}

func TestStartFailsOnTakenPortAndOffDisables(t *testing.T) {
	taken := httptest.NewServer(http.NotFoundHandler())
	defer taken.Close()
	s := New("test", slog.New(slog.DiscardHandler))
	if err := s.Start(strings.TrimPrefix(taken.URL, "http://")); err == nil {
		t.Fatal("Start on a taken port succeeded")
	}
	if err := s.Start(Off); err != nil {
		t.Fatalf("Start(off): %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of a disabled listener: %v", err)
	}
}

func TestAroundServesWhileRunning(t *testing.T) {
	s := New("test", slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	err := s.Around(ctx, "127.0.0.1:0", 0, func(ctx context.Context) error {
		ran = true
		cancel()
		<-ctx.Done()
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("Around: ran=%v err=%v", ran, err)
	}
	select {
	case <-s.draining:
	default:
		t.Fatal("readiness not drained after ctx ended")
	}
}
