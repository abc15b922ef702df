package natsx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// A service that starts before the operator has provisioned its streams
// waits for them; with none coming it fails and says how to provision.
func TestCheckStreamsWaitsForTheOperator(t *testing.T) {
	ns := testenv.NATS(t)
	js := ns.JetStream(ns.Conn())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, contracts.StreamEvents); err != nil {
		t.Fatal(err)
	}

	short, cancelShort := context.WithTimeout(ctx, 600*time.Millisecond)
	defer cancelShort()
	if err := natsx.CheckStreams(short, js, contracts.StreamEvents); err == nil || !strings.Contains(err.Error(), "orderflow streams provision") {
		t.Fatalf("missing stream: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- natsx.CheckStreams(ctx, js, contracts.StreamCommands, contracts.StreamEvents) }()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("returned before the stream existed: %v", err)
	default:
	}
	if err := natsx.EnsureStreams(ctx, js); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("after provisioning: %v", err)
	}
}
