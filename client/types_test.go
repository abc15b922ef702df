package client_test

import (
	"testing"

	"github.com/orderflow/orderflow/client"
)

func TestOrderStateTerminal(t *testing.T) {
	terminal := map[client.OrderState]bool{client.StateShipped: true, client.StateCancelled: true, client.StateFailed: true}
	for _, s := range []client.OrderState{client.StateReceived, client.StateValidated, client.StateAwaitingApproval,
		client.StateApproved, client.StatePaid, client.StateShipping, client.StateDispatched,
		client.StateShipped, client.StateCancelled, client.StateFailed} {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
}

func TestCommandKindValid(t *testing.T) {
	for _, k := range []client.CommandKind{client.KindStart, client.KindCancel, client.KindUpdateAddress, client.KindApprove} {
		if !k.Valid() {
			t.Errorf("%s.Valid() = false", k)
		}
	}
	for _, k := range []client.CommandKind{"", "refund", "Start"} {
		if k.Valid() {
			t.Errorf("%q.Valid() = true", k)
		}
	}
}
