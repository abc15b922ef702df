package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/natsx"
)

// TestBoardPageIsSelfContained: the page and its assets are served from
// the binary under the self-only CSP and reference no other host.
func TestBoardPageIsSelfContained(t *testing.T) {
	e := newEnv(t, nil)
	for path, ctype := range map[string]string{"/board": "text/html", "/board/board.js": "text/javascript", "/board/board.css": "text/css"} {
		r := e.do(http.MethodGet, path, "")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) {
			t.Fatalf("%s: %d %s", path, r.StatusCode, r.Header.Get("Content-Type"))
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.Contains(string(r.body), "http://") || strings.Contains(string(r.body), "https://") {
			t.Errorf("%s references another host", path)
		}
	}
}

// TestBoardEventsStreamsOrderEvents reads /board/events over a real
// connection: `ready` first, then each event published to ORDER_EVENTS as
// an `order` event with the order's summary.
func TestBoardEventsStreamsOrderEvents(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.listen()+"/board/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(res.Body)
	next := func() (event, data string) {
		t.Helper()
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && event != "":
				return event, data
			}
		}
	}
	if ev, _ := next(); ev != "ready" {
		t.Fatalf("first event %q, want ready", ev)
	}
	at := time.Now().UTC()
	st := snapshot("board-1", domain.StateShipped, at)
	st.Shipping = &contracts.ShippingInfo{Attempt: 1, TrackingNumber: "TRK-1"}
	st.CompletedAt = &at
	msg, err := natsx.EventMsg(contracts.Event{ID: contracts.EventID("board-1", 9), SchemaVersion: contracts.EventSchemaVersion,
		Type: contracts.EventShipped, OrderID: "board-1", Seq: 9, Time: at, WorkflowID: st.WorkflowID, Order: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.JS.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	ev, data := next()
	var v struct {
		OrderID        string `json:"order_id"`
		Type           string `json:"type"`
		State          string `json:"state"`
		TrackingNumber string `json:"tracking_number"`
		Seq            int64  `json:"seq"`
		Terminal       bool   `json:"terminal"`
	}
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("data %q: %v", data, err)
	}
	if ev != "order" || v.OrderID != "board-1" || v.Type != "shipped" || v.State != "shipped" || v.Seq != 9 || !v.Terminal || v.TrackingNumber != "TRK-1" {
		t.Fatalf("got %s %s", ev, data)
	}
}
