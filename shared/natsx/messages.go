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
	m, err := jsonMsg("command", contracts.CommandSubject(c.OrderID, c.Kind), c.CommandID, c)
	if err != nil {
		return nil, err
	}
	m.Header.Set(contracts.HeaderCommandID, c.CommandID)
	return m, nil
}

// EventMsg builds the message for an event: Nats-Msg-Id is the event's
// deterministic ID, and the CloudEvents attributes travel as headers.
func EventMsg(e contracts.Event) (*nats.Msg, error) {
	m, err := jsonMsg("event", contracts.EventSubject(e.OrderID, e.Type), e.ID, e)
	if err != nil {
		return nil, err
	}
	m.Header.Set(contracts.HeaderCEID, e.ID)
	m.Header.Set(contracts.HeaderCESpecVersion, "1.0")
	m.Header.Set(contracts.HeaderCESource, contracts.EventSource)
	m.Header.Set(contracts.HeaderCEType, "orderflow.order."+string(e.Type)+".v1")
	m.Header.Set(contracts.HeaderCESubject, e.OrderID)
	m.Header.Set(contracts.HeaderCETime, e.Time.UTC().Format(time.RFC3339Nano))
	return m, nil
}

// ResultMsg builds the message for a command outcome.
func ResultMsg(r contracts.CommandResult) (*nats.Msg, error) {
	m, err := jsonMsg("result", contracts.ResultSubject(r.OrderID), "result-"+r.CommandID, r)
	if err != nil {
		return nil, err
	}
	m.Header.Set(contracts.HeaderCommandID, r.CommandID)
	return m, nil
}

// jsonMsg is v as a JSON message on subject with Nats-Msg-Id msgID, the
// part every message of the contract shares; what names v in the error.
func jsonMsg(what, subject, msgID string, v any) (*nats.Msg, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	m := nats.NewMsg(subject)
	m.Data = body
	m.Header.Set(contracts.HeaderMsgID, msgID)
	m.Header.Set(contracts.HeaderContentType, "application/json")
	return m, nil
}
