package ports

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/testenv"
)

// A bridge on a server without consumer priority groups (before 2.11)
// stops at once with an error naming the server's version, instead of
// declaring a consumer that would refuse every pull.
func TestConsumerRefusesServerWithoutPriorityGroups(t *testing.T) {
	nc := testenv.Connect(t, testenv.NATSAnnouncing(t, "2.9.10"))
	c := NewConsumer(nc, testenv.JetStream(t, nc), nil, ConsumerOptions{Durable: "bridge", Partitions: 1}, testenv.Logger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "nats-server 2.9.10") {
		t.Fatalf("Run on a 2.9.10 server: %v", err)
	}
}
