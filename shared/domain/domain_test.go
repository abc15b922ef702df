package domain

import "testing"

func TestOrderStateTerminal(t *testing.T) {
	terminal := map[OrderState]bool{StateShipped: true, StateCancelled: true, StateFailed: true}
	for _, s := range []OrderState{StateReceived, StateValidated, StateAwaitingApproval, StateApproved, StatePaid,
		StateShipping, StateDispatched, StateShipped, StateCancelled, StateFailed} {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
}
