package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/orderflow/orderflow/shared/netx"
)

// The services of the run command, for their ops listeners' variables.
var opsServices = []string{"api", "bridge", "order-worker", "shipping-worker", "projector"}

// telemetryEnv is the run command's environment for one telemetry mode, and
// a stop function for what it started:
//   - off: no tracer (OTEL_SDK_DISABLED) and no ops listeners. The services'
//     in-process counters still count; they cannot be switched off.
//   - on: every span exported over OTLP/HTTP to a sink in this process that
//     reads and discards it (the cost of a real collector is not charged to
//     the pipeline), and every /metrics scraped every 5 s, as Prometheus would.
func telemetryEnv(mode string) (env []string, stop func(), err error) {
	switch mode {
	case "", "off":
		env = []string{"OTEL_SDK_DISABLED=true"}
		for _, s := range opsServices {
			env = append(env, opsVar(s)+"=off")
		}
		return env, func() {}, nil
	case "on":
	default:
		return nil, nil, fmt.Errorf("telemetry %q: want on or off", mode)
	}
	var spanBytes atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	sink := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		spanBytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	go func() { _ = sink.Serve(ln) }()
	env = []string{"OTEL_SDK_DISABLED=false", "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + ln.Addr().String(), "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"}
	var targets []string
	for _, s := range opsServices {
		p, err := netx.FreePort()
		if err != nil {
			_ = sink.Close()
			return nil, nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		env = append(env, opsVar(s)+"="+addr)
		targets = append(targets, "http://"+addr+"/metrics")
	}
	scraping, stopScraping := context.WithCancel(context.Background())
	go every(scraping, 5*time.Second, func() {
		for _, t := range targets {
			if resp, err := http.Get(t); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	})
	return env, func() {
		stopScraping()
		_ = sink.Close()
		fmt.Printf("telemetry: %d KiB of spans received\n", spanBytes.Load()/1024)
	}, nil
}

func opsVar(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, "-", "_")) + "_OPS_ADDR"
}
