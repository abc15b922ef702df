package ports

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/permanent"
)

func TestDecode(t *testing.T) {
	good := contracts.Event{
		ID: contracts.EventID("o-1", 2), SchemaVersion: contracts.EventSchemaVersion, Type: contracts.EventValidated,
		OrderID: "o-1", Seq: 2, Time: time.Now().UTC(), WorkflowID: contracts.OrderWorkflowID("o-1"),
		Order: contracts.OrderStatus{OrderID: "o-1", State: domain.StateValidated, ManualReview: true},
	}
	body, _ := json.Marshal(good)
	// An unknown snapshot field survives: the stored snapshot is the raw one.
	withExtra := strings.Replace(string(body), `"order":{`, `"order":{"future_field":7,`, 1)

	for _, tc := range []struct {
		name, subject, body, wantErr string
	}{
		{"valid", "orders.events.o-1.validated", string(body), ""},
		{"unknown snapshot field kept", "orders.events.o-1.validated", withExtra, ""},
		{"not JSON", "orders.events.o-1.validated", `{"id":`, "not valid JSON"},
		{"wrong order on subject", "orders.events.o-2.validated", string(body), "arrived on subject"},
		{"wrong type on subject", "orders.events.o-1.shipped", string(body), "arrived on subject"},
		{"subject outside events", "orders.commands.o-1.start", string(body), "not under"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Decode(tc.subject, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID != good.ID || ev.Order.State != domain.StateValidated {
				t.Fatalf("decoded %+v", ev.Event)
			}
			if strings.Contains(tc.body, "future_field") != strings.Contains(string(ev.Snapshot), "future_field") {
				t.Fatalf("snapshot %s is not the raw one", ev.Snapshot)
			}
		})
	}
}

func TestGiveUpAfter(t *testing.T) {
	transient := errors.New("connection refused")
	for _, tc := range []struct {
		name          string
		max           int
		delivered     string
		err           error
		wantPermanent bool
	}{
		{"disabled", 0, "1000", transient, false},
		{"below the limit", 5, "4", transient, false},
		{"at the limit", 5, "5", transient, true},
		{"already permanent", 5, "1", permanent.Wrap(transient), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := message.NewMessage("id", nil)
			msg.Metadata.Set(MetaNumDelivered, tc.delivered)
			h := GiveUpAfter(tc.max)(func(*message.Message) ([]*message.Message, error) { return nil, tc.err })
			_, err := h(msg)
			if !errors.Is(err, transient) || permanent.Is(err) != tc.wantPermanent {
				t.Fatalf("err = %v, permanent = %v, want %v", err, permanent.Is(err), tc.wantPermanent)
			}
		})
	}
}
