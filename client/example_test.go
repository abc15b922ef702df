package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/client"
)

// natsURL is the embedded JetStream server the examples run against, with
// the contract's streams; in production they exist already.
var natsURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "orderflow-client-")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		log.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		log.Fatal("nats server not ready")
	}
	natsURL = srv.ClientURL()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		log.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	for name, subj := range map[string]string{client.StreamCommands: client.CommandsRoot + ".>",
		client.StreamEvents: client.EventsRoot + ".>", client.StreamResults: client.ResultsRoot + ".>"} {
		if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: []string{subj},
			Duplicates: 2 * time.Minute}); err != nil {
			log.Fatal(err)
		}
	}
	nc.Close()
	code := m.Run()
	srv.Shutdown()
	os.RemoveAll(dir)
	os.Exit(code)
}

// publishEvent stands in for the order worker in the examples.
func publishEvent(js jetstream.JetStream, orderID string, seq int64, t client.EventType, state client.OrderState) {
	e := client.Event{ID: fmt.Sprintf("%s:%d", orderID, seq), SchemaVersion: 1, Type: t, OrderID: orderID, Seq: seq,
		Time: time.Now().UTC(), Order: client.OrderStatus{OrderID: orderID, State: state}}
	body, _ := json.Marshal(e)
	if _, err := js.Publish(context.Background(), client.EventSubject(orderID, t), body); err != nil {
		log.Fatal(err)
	}
}

// Start an order and send the same command again: the command ID makes the
// repeat harmless.
func ExampleClient_Start() {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	c, err := client.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	order := client.StartOrder{PaymentID: "payment-7", Items: []client.Item{{SKU: "BOOK-1", Quantity: 2, PriceCents: 1250}}}
	first, err := c.Start(ctx, "example-order-7", order, client.WithCommandID("start-example-order-7"))
	if err != nil {
		log.Fatal(err)
	}
	again, err := c.Start(ctx, "example-order-7", order, client.WithCommandID("start-example-order-7"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Kind, first.CommandID, "duplicate:", first.Duplicate)
	fmt.Println(again.Kind, again.CommandID, "duplicate:", again.Duplicate)
	// Output:
	// start start-example-order-7 duplicate: false
	// start start-example-order-7 duplicate: true
}

// Follow one order's events until it ends. A re-published event is
// handed over once.
func ExampleClient_Events() {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	publishEvent(js, "example-order-8", 1, client.EventReceived, client.StateReceived)
	publishEvent(js, "example-order-8", 2, client.EventValidated, client.StateValidated)
	publishEvent(js, "example-order-8", 2, client.EventValidated, client.StateValidated) // a retried publish
	publishEvent(js, "example-order-8", 3, client.EventCancelled, client.StateCancelled)

	c, err := client.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Events(ctx, client.SubscribeOptions{OrderID: "example-order-8"}, func(e client.Event) error {
		fmt.Println(e.Seq, e.Type, e.Order.State)
		if e.Order.State.Terminal() {
			return client.Stop
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1 received received
	// 2 validated validated
	// 3 cancelled cancelled
}

// The subject filters behind SubscribeOptions.
func ExampleEventSubjectFilter() {
	fmt.Println(client.EventSubjectFilter(client.SubscribeOptions{}))
	fmt.Println(client.EventSubjectFilter(client.SubscribeOptions{OrderID: "order-123"}))
	fmt.Println(client.EventSubjectFilter(client.SubscribeOptions{Type: client.EventShipped}))
	// Output:
	// orders.events.>
	// orders.events.order-123.>
	// orders.events.*.shipped
}
