package ports

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
)

func TestDecodeTakesTheCommandIDFromHeaderThenBodyThenStream(t *testing.T) {
	subject := contracts.CommandSubject("o-1", contracts.CommandCancel)
	hdr := func(id string) nats.Header { h := nats.Header{}; h.Set(contracts.HeaderMsgID, id); return h }
	tests := []struct {
		name string
		h    nats.Header
		body string
		want string
	}{
		{"header wins over body", hdr("from-header"), `{"command_id":"from-body"}`, "from-header"},
		{"body when no header", nats.Header{}, `{"command_id":"from-body"}`, "from-body"},
		{"stream position when neither", nil, `{}`, "ORDER_COMMANDS-42"},
		{"stream position for an empty body", nil, ``, "ORDER_COMMANDS-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, id, err := decode(subject, tt.h, []byte(tt.body), "ORDER_COMMANDS", 42)
			if err != nil || id != tt.want || cmd.CommandID != tt.want {
				t.Fatalf("decode: cmd %+v id %q err %v, want %q", cmd, id, err, tt.want)
			}
		})
	}
}

func TestDecodeRejectsWhatCanNeverBeApplied(t *testing.T) {
	tests := []struct{ subject, body, reason string }{
		{"orders.commands.o-1.start", `{"payment_id":`, "not valid JSON"},
		{"orders.commands.o-1.start", `{}`, "payment_id is required"},
		{"orders.commands.o-1.refund", `{}`, "unknown command kind"},
		{"orders.commands.o.1.start", `{}`, "is not orders.commands.<order_id>.<kind>"},
		{"orders.commands.o*1.start", `{}`, "may contain only"},
		{"orders.commands.o-1.update-address", `{}`, "address is required"},
		{"orders.commands.o-1.cancel", `{"order_id":"o-2"}`, "does not match"},
		{"orders.commands.o-1.start", `{"payment_id":"p","items":[]}`, "at least one item"},
	}
	for _, tt := range tests {
		_, id, err := decode(tt.subject, nil, []byte(tt.body), "S", 7)
		if err == nil || !strings.Contains(err.Error(), tt.reason) || id != "S-7" {
			t.Errorf("decode(%s, %s): id %q err %v, want an error about %q", tt.subject, tt.body, id, err, tt.reason)
		}
	}
}

// FuzzDecodeCommand feeds arbitrary subjects, IDs and bodies to the
// bridge's decoding. It must never panic, must always name the command, and
// whatever it accepts must be a valid command for the subject's order and
// kind that survives a round trip through the wire format unchanged.
func FuzzDecodeCommand(f *testing.F) {
	seeds := []struct{ subject, msgID, body string }{
		{"orders.commands.order-1.start", "c-1", `{"payment_id":"pay-1"}`},
		{"orders.commands.order-1.start", "", `{"command_id":"c-2","payment_id":"p","items":[{"sku":"A","quantity":2,"price_cents":150}],"address":{"street":"1 A St","city":"B","state":"CA","zip_code":"9"},"manual_review":true}`},
		{"orders.commands.order_2.cancel", "c-3", `{"reason":"changed my mind"}`},
		{"orders.commands.o.update-address", "c-4", `{"address":{"street":"s","city":"c","state":"st","zip_code":"z"}}`},
		{"orders.commands.o.approve", "", ``},
		{"orders.commands.o.approve", "x", `null`},
		{"orders.commands.o.explode", "c-5", `{}`},
		{"orders.commands.a.b.start", "c-6", `{"payment_id":"p"}`},
		{"orders.commands.o.start", "c-7", `{"payment_id":`},
		{"orders.commands.o.start", "c-8", `{"payment_id":"p","items":[]}`},
		{"orders.commands.o.start", "c-9", `{"order_id":"other","payment_id":"p"}`},
		{"orders.events.o.start", "c-10", `{}`},
		{"orders.commands.o.cancel", "c-11", `{"kind":"start"}`},
		{"orders.commands..cancel", "", `[]`},
	}
	for _, s := range seeds {
		f.Add(s.subject, s.msgID, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, subject, msgID string, body []byte) {
		h := nats.Header{}
		if msgID != "" {
			h.Set(contracts.HeaderMsgID, msgID)
		}
		cmd, id, err := decode(subject, h, body, "ORDER_COMMANDS", 1)
		if id == "" {
			t.Fatalf("no command ID for %q %q", subject, body)
		}
		if err != nil {
			return
		}
		orderID, kind, perr := contracts.ParseCommandSubject(subject)
		if perr != nil || cmd.OrderID != orderID || cmd.Kind != kind || cmd.CommandID != id {
			t.Fatalf("accepted %+v from subject %q (parse: %s %s %v)", cmd, subject, orderID, kind, perr)
		}
		if verr := cmd.Validate(); verr != nil {
			t.Fatalf("accepted an invalid command %+v: %v", cmd, verr)
		}
		m, merr := natsx.CommandMsg(cmd)
		if merr != nil {
			t.Fatalf("re-encode %+v: %v", cmd, merr)
		}
		again, againID, err := decode(m.Subject, m.Header, m.Data, "ORDER_COMMANDS", 2)
		if err != nil || againID != id || again.OrderID != cmd.OrderID || again.Kind != cmd.Kind ||
			again.PaymentID != cmd.PaymentID || again.Reason != cmd.Reason || again.ManualReview != cmd.ManualReview ||
			len(again.Items) != len(cmd.Items) || (again.Address == nil) != (cmd.Address == nil) {
			t.Fatalf("round trip changed the command:\n %+v\n %+v (err %v)", cmd, again, err)
		}
	})
}
