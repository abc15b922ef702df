// Command follow starts an order through the orderflow Go client and prints
// its events until the order ends. It is its own module, outside the
// repository's workspace, to show the client works with a plain go get:
//
//	go run . -nats nats://127.0.0.1:4222 -order order-42
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/client"
)

func main() {
	url := flag.String("nats", nats.DefaultURL, "NATS server")
	orderID := flag.String("order", fmt.Sprintf("follow-%d", time.Now().UnixNano()), "order ID")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*url, *orderID, *timeout); err != nil {
		log.Fatal(err)
	}
}

func run(url, orderID string, timeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := client.New(nc)
	if err != nil {
		return err
	}
	sent, err := c.Start(ctx, orderID, client.StartOrder{PaymentID: "pay-" + orderID}, client.WithWait(10*time.Second))
	if err != nil {
		return err
	}
	fmt.Printf("order %s: command %s %s\n", orderID, sent.CommandID, sent.Result.Outcome)

	var final client.OrderState
	err = c.Events(ctx, client.SubscribeOptions{OrderID: orderID}, func(e client.Event) error {
		fmt.Printf("%3d %-18s state=%s step=%s\n", e.Seq, e.Type, e.Order.State, e.Order.Step)
		if e.Order.State.Terminal() {
			final = e.Order.State
			return client.Stop
		}
		return nil
	})
	if err != nil {
		return err
	}
	if final == "" {
		return fmt.Errorf("order %s did not finish within %s", orderID, timeout)
	}
	fmt.Printf("order %s ended %s\n", orderID, final)
	return nil
}
