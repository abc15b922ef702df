package integration_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/client/rest"
	"github.com/orderflow/orderflow/integration/stack"
	"github.com/orderflow/orderflow/shared/testenv"
)

// TestClientDrivesAnOrder uses only the client over NATS: start a
// manual-review order and wait for the bridge's outcome, read its live
// status, approve it, and follow its events in seq order to shipped.
func TestClientDrivesAnOrder(t *testing.T) {
	s := stack.Start(t, stack.Options{NoAPI: true})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	orderID := testenv.UniqueName("client")

	start := client.StartOrder{PaymentID: "pay-" + orderID, ManualReview: true,
		Items: []client.Item{{SKU: "BOOK-1", Quantity: 2, PriceCents: 1250}}}
	sent, err := c.Start(ctx, orderID, start, client.WithCommandID("start-"+orderID), client.WithWait(15*time.Second))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if sent.Result == nil || sent.Result.Outcome != client.OutcomeStarted || sent.Duplicate {
		t.Fatalf("start outcome %+v", sent)
	}
	// The same command again: the broker drops it, and the earlier outcome is found.
	again, err := c.Start(ctx, orderID, start, client.WithCommandID("start-"+orderID), client.WithWait(5*time.Second))
	if err != nil || !again.Duplicate || again.Result == nil || again.Result.CommandID != sent.CommandID {
		t.Fatalf("repeat start: %+v, %v", again, err)
	}

	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		st, err := c.Status(ctx, orderID)
		return err == nil && st.Status != nil && st.Status.State == client.StateAwaitingApproval, "waiting for awaiting approval"
	})
	approved, err := c.Approve(ctx, orderID, client.WithWait(15*time.Second))
	if err != nil || approved.Result.Outcome != client.OutcomeApplied {
		t.Fatalf("approve: %+v, %v", approved, err)
	}

	var seqs []int64
	var last client.Event
	err = c.Events(ctx, client.SubscribeOptions{OrderID: orderID}, func(e client.Event) error {
		seqs = append(seqs, e.Seq)
		last = e
		if e.Order.State.Terminal() {
			return client.Stop
		}
		return nil
	})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("event seqs %v are not 1..n", seqs)
		}
	}
	if last.Type != client.EventShipped || last.Order.Shipping == nil || last.Order.Shipping.TrackingNumber == "" {
		t.Fatalf("last event %s, order %+v; want shipped with a tracking number", last.Type, last.Order)
	}

	// Rejections come back as a typed error.
	_, err = c.Approve(ctx, testenv.UniqueName("nobody"), client.WithWait(15*time.Second))
	var rej *client.RejectedError
	if !errors.As(err, &rej) || rej.Result.Reason == "" {
		t.Fatalf("approve of an unknown order: %v, want a RejectedError with a reason", err)
	}
	if _, err := c.Status(ctx, testenv.UniqueName("nobody")); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("status of an unknown order: %v, want ErrNotFound", err)
	}
}

// TestGeneratedHTTPClient drives the running API with the generated client:
// a start with Prefer wait, the status, the events and a problem answer.
func TestGeneratedHTTPClient(t *testing.T) {
	s := stack.Start(t, stack.Options{})
	api, err := rest.NewClientWithResponses(s.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	orderID := testenv.UniqueName("rest")
	wait, key := "wait=10", "start-"+orderID
	res, err := api.StartOrderWithResponse(ctx, orderID, &rest.StartOrderParams{Prefer: &wait, IdempotencyKey: &key},
		rest.StartRequest{PaymentId: "pay-" + orderID})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode() != http.StatusOK || res.JSON200 == nil || res.JSON200.Result == nil ||
		res.JSON200.Result.Outcome != rest.CommandResultOutcomeStarted || res.JSON200.CommandId != key {
		t.Fatalf("start: %d %s", res.StatusCode(), res.Body)
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) { return s.OrderState(t, orderID) == "shipped", "waiting for order shipped" })

	st, err := api.GetOrderStatusWithResponse(ctx, orderID)
	if err != nil || st.JSON200 == nil || st.JSON200.Status.State == nil || *st.JSON200.Status.State != rest.OrderStateShipped {
		t.Fatalf("status: %v %s", err, st.Body)
	}
	ev, err := api.ListOrderEventsWithResponse(ctx, orderID)
	if err != nil || ev.JSON200 == nil || len(ev.JSON200.Events) < 6 || ev.JSON200.Events[0].Seq != 1 {
		t.Fatalf("events: %v %s", err, ev.Body)
	}
	if last := ev.JSON200.Events[len(ev.JSON200.Events)-1]; last.Type != "shipped" {
		t.Fatalf("last event %s", last.Type)
	}

	bad, err := api.StartOrderWithResponse(ctx, orderID, nil, rest.StartRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if bad.ApplicationproblemJSON400 == nil || bad.ApplicationproblemJSON400.Field == nil || *bad.ApplicationproblemJSON400.Field != "payment_id" {
		t.Fatalf("empty start: %d %s, want a 400 problem naming payment_id", bad.StatusCode(), bad.Body)
	}
}
