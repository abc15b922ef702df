package client

import (
	"fmt"
	"regexp"
)

// Streams and subjects of the NATS contract.
const (
	StreamCommands = "ORDER_COMMANDS"
	StreamEvents   = "ORDER_EVENTS"
	StreamResults  = "ORDER_RESULTS"
	StreamDLQ      = "ORDER_DLQ"

	CommandsRoot = "orders.commands"
	EventsRoot   = "orders.events"
	ResultsRoot  = "orders.results"
	StatusRoot   = "orders.status"
	DLQCommands  = "orders.dlq.commands"
	DLQEvents    = "orders.dlq.events"
)

// Headers of the NATS contract.
const (
	HeaderMsgID           = "Nats-Msg-Id" // JetStream deduplication key: the command or event ID
	HeaderCommandID       = "Orderflow-Command-Id"
	HeaderReason          = "Orderflow-Reason"           // dead letters: why
	HeaderOriginalSubject = "Orderflow-Original-Subject" // dead letters: where it was sent
)

var orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidateOrderID checks that id is one subject token the services accept:
// 1 to 64 letters, digits, '_' or '-'.
func ValidateOrderID(id string) error {
	if !orderIDPattern.MatchString(id) {
		return fmt.Errorf("order_id %q must be 1 to 64 letters, digits, '_' or '-'", id)
	}
	return nil
}

// CommandSubject is where a command of kind for orderID is published.
func CommandSubject(orderID string, kind CommandKind) string {
	return CommandsRoot + "." + orderID + "." + string(kind)
}

// EventSubject is where an event of type t for orderID is published.
func EventSubject(orderID string, t EventType) string {
	return EventsRoot + "." + orderID + "." + string(t)
}

// ResultSubject is where the bridge publishes the outcomes of orderID's commands.
func ResultSubject(orderID string) string { return ResultsRoot + "." + orderID }

// StatusSubject is the request/reply subject of orderID's live status.
func StatusSubject(orderID string) string { return StatusRoot + "." + orderID }
