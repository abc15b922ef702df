package natsx

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/shared/contracts"
)

// CommandMsg builds the message for a command: subject from order ID and
// kind, Nats-Msg-Id from the command ID so the broker drops a re-publish.
func CommandMsg(c contracts.Command) (*nats.Msg, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	m := nats.NewMsg(contracts.CommandSubject(c.OrderID, c.Kind))
	m.Data = body
	m.Header.Set(contracts.HeaderMsgID, c.CommandID)
	m.Header.Set(contracts.HeaderCommandID, c.CommandID)
	m.Header.Set(contracts.HeaderContentType, "application/json")
	return m, nil
}

// EventMsg builds the message for an event: Nats-Msg-Id is the event's
// deterministic ID, and the CloudEvents attributes travel as headers.
func EventMsg(e contracts.Event) (*nats.Msg, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	m := nats.NewMsg(contracts.EventSubject(e.OrderID, e.Type))
	m.Data = body
	m.Header.Set(contracts.HeaderMsgID, e.ID)
	m.Header.Set(contracts.HeaderCEID, e.ID)
	m.Header.Set(contracts.HeaderCESpecVersion, "1.0")
	m.Header.Set(contracts.HeaderCESource, contracts.EventSource)
	m.Header.Set(contracts.HeaderCEType, "orderflow.order."+string(e.Type)+".v1")
	m.Header.Set(contracts.HeaderCESubject, e.OrderID)
	m.Header.Set(contracts.HeaderCETime, e.Time.UTC().Format(time.RFC3339Nano))
	m.Header.Set(contracts.HeaderContentType, "application/json")
	return m, nil
}

// ResultMsg builds the message for a command outcome.
func ResultMsg(r contracts.CommandResult) (*nats.Msg, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	m := nats.NewMsg(contracts.ResultSubject(r.OrderID))
	m.Data = body
	m.Header.Set(contracts.HeaderMsgID, "result-"+r.CommandID)
	m.Header.Set(contracts.HeaderCommandID, r.CommandID)
	m.Header.Set(contracts.HeaderContentType, "application/json")
	return m, nil
}
