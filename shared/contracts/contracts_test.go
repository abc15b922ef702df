package contracts

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/domain"
)

func TestValidateOrderID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{"order-123", ""},
		{"A_b-9", ""},
		{strings.Repeat("x", MaxOrderIDLength), ""},
		{"", "order_id is empty"},
		{strings.Repeat("x", MaxOrderIDLength+1), "order_id is longer than 64 characters"},
		{"bad.id", `order_id "bad.id" may contain only letters, digits, '_' and '-'`},
		{"a*", `order_id "a*" may contain`},
		{"a b", `order_id "a b" may contain`},
		{"ordér", `order_id "ordér" may contain`},
	}
	for _, tt := range tests {
		err := ValidateOrderID(tt.id)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("ValidateOrderID(%q) = %v, want nil", tt.id, err)
			}
			continue
		}
		var fe *domain.FieldError
		if !errors.As(err, &fe) || fe.Field != "order_id" {
			t.Errorf("ValidateOrderID(%q) = %v, want a domain.FieldError on order_id", tt.id, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.wantErr) {
			t.Errorf("ValidateOrderID(%q) = %q, want prefix %q", tt.id, err, tt.wantErr)
		}
	}
}

func TestDecodeCommand(t *testing.T) {
	tests := []struct {
		name, subject, body string
		wantErr             string
		check               func(t *testing.T, c Command)
	}{
		{name: "seed start", subject: "orders.commands.order-123.start", body: `{"payment_id": "payment-456"}`,
			check: func(t *testing.T, c Command) {
				if c.OrderID != "order-123" || c.Kind != CommandStart || c.PaymentID != "payment-456" || c.Items != nil {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "cancel without body", subject: "orders.commands.o-1.cancel", body: ``,
			check: func(t *testing.T, c Command) {
				if c.Kind != CommandCancel || c.OrderID != "o-1" {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "address update", subject: "orders.commands.o-1.update-address",
			body: `{"address":{"street":"1 A St","city":"B","state":"CA","zip_code":"94105"}}`,
			check: func(t *testing.T, c Command) {
				if c.Address == nil || c.Address.ZipCode != "94105" {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "unknown kind", subject: "orders.commands.o-1.refund", body: `{}`, wantErr: `unknown command kind "refund"`},
		{name: "too many tokens", subject: "orders.commands.o-1.x.start", body: `{}`, wantErr: "is not orders.commands.<order_id>.<kind>"},
		{name: "other root", subject: "orders.events.o-1.start", body: `{}`, wantErr: "is not under orders.commands"},
		{name: "bad json", subject: "orders.commands.o-1.start", body: `{"payment_id":`, wantErr: "not valid JSON"},
		{name: "missing payment", subject: "orders.commands.o-1.start", body: `{}`, wantErr: "payment_id is required"},
		{name: "empty items", subject: "orders.commands.o-1.start", body: `{"payment_id":"p","items":[]}`, wantErr: "items must contain at least one item"},
		{name: "zero quantity", subject: "orders.commands.o-1.start", body: `{"payment_id":"p","items":[{"sku":"a","quantity":0,"price_cents":1}]}`, wantErr: "items[0].quantity"},
		{name: "address missing zip", subject: "orders.commands.o-1.update-address", body: `{"address":{"street":"s","city":"c","state":"st"}}`, wantErr: "zip_code is required"},
		{name: "update without address", subject: "orders.commands.o-1.update-address", body: `{}`, wantErr: "address is required"},
		{name: "body order mismatch", subject: "orders.commands.o-1.cancel", body: `{"order_id":"o-2"}`, wantErr: "does not match subject"},
		{name: "body kind mismatch", subject: "orders.commands.o-1.cancel", body: `{"kind":"start"}`, wantErr: "does not match subject"},
		{name: "oversized", subject: "orders.commands.o-1.cancel", body: `{"reason":"` + strings.Repeat("x", MaxCommandBytes) + `"}`, wantErr: "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCommand(tt.subject, []byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestDecodeEvent(t *testing.T) {
	valid := Event{
		ID: EventID("o-1", 3), SchemaVersion: EventSchemaVersion, Type: EventPaymentCharged,
		OrderID: "o-1", Seq: 3, Time: time.Unix(1, 0).UTC(), WorkflowID: OrderWorkflowID("o-1"),
		Order: OrderStatus{OrderID: "o-1", State: domain.StatePaid},
	}
	mutate := func(f func(e *Event)) []byte {
		e := valid
		f(&e)
		b, _ := json.Marshal(e)
		return b
	}
	tests := []struct {
		name    string
		body    []byte
		wantErr string
	}{
		{"valid", mutate(func(*Event) {}), ""},
		{"not json", []byte("{"), "not valid JSON"},
		{"schema", mutate(func(e *Event) { e.SchemaVersion = 2 }), "schema_version 2"},
		{"bad order id", mutate(func(e *Event) { e.OrderID = "a.b" }), "order_id"},
		{"seq zero", mutate(func(e *Event) { e.Seq = 0 }), "not positive"},
		{"id mismatch", mutate(func(e *Event) { e.ID = "o-1:4" }), "does not match"},
		{"no type", mutate(func(e *Event) { e.Type = "" }), "type is empty"},
		{"snapshot of other order", mutate(func(e *Event) { e.Order.OrderID = "o-2" }), "snapshot order_id"},
		{"snapshot without state", mutate(func(e *Event) { e.Order.State = "" }), "no state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEvent(tt.body)
			if tt.wantErr == "" {
				if err != nil || e.ID != valid.ID {
					t.Fatalf("DecodeEvent = %+v, %v", e, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestSubjectsRoundTrip(t *testing.T) {
	for _, k := range []CommandKind{CommandStart, CommandCancel, CommandUpdateAddress, CommandApprove} {
		id, kind, err := ParseCommandSubject(CommandSubject("order-9", k))
		if err != nil || id != "order-9" || kind != k {
			t.Errorf("ParseCommandSubject(CommandSubject(order-9, %s)) = %s, %s, %v", k, id, kind, err)
		}
	}
	id, typ, err := ParseEventSubject(EventSubject("order-9", EventShipped))
	if err != nil || id != "order-9" || typ != EventShipped {
		t.Errorf("ParseEventSubject = %s, %s, %v", id, typ, err)
	}
	if got := StatusSubject("o-1"); got != "orders.status.o-1" {
		t.Errorf("StatusSubject = %s", got)
	}
	// ORDER_DLQ captures DLQRoot.>; the dead-letter subjects come from the client.
	for _, s := range []string{DLQCommands, DLQEvents} {
		if !strings.HasPrefix(s, DLQRoot+".") {
			t.Errorf("%s is not under %s", s, DLQRoot)
		}
	}
}

func TestAppendRecentErrorsKeepsTheNewest(t *testing.T) {
	var errs []StepError
	for i := 1; i <= MaxRecentErrors+3; i++ {
		errs = AppendRecentErrors(errs, StepError{Attempt: i})
	}
	if len(errs) != MaxRecentErrors || errs[0].Attempt != 4 || errs[len(errs)-1].Attempt != MaxRecentErrors+3 {
		t.Fatalf("kept %d errors, attempts %d..%d", len(errs), errs[0].Attempt, errs[len(errs)-1].Attempt)
	}
}
