package contracts

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/shared/domain"
)

// Stream names. Streams are created by natsx.EnsureStreams, never by
// auto-provisioning (dotted subjects make auto-provisioned names invalid).
const (
	StreamCommands = client.StreamCommands
	StreamEvents   = client.StreamEvents
	StreamDLQ      = client.StreamDLQ
	StreamResults  = client.StreamResults
)

// Subject roots. Every subject is <root>.<order_id>.<suffix>.
const (
	CommandsRoot = client.CommandsRoot
	EventsRoot   = client.EventsRoot
	StatusRoot   = client.StatusRoot
	ResultsRoot  = client.ResultsRoot
	DLQRoot      = "orders.dlq" // parent of DLQCommands and DLQEvents
)

// Dead-letter subjects: a message that can never be processed is republished
// here with HeaderReason, HeaderOriginalSubject and its original body.
const (
	DLQCommands = client.DLQCommands
	DLQEvents   = client.DLQEvents
)

// Headers used on NATS messages.
const (
	HeaderMsgID           = client.HeaderMsgID // JetStream deduplication key
	HeaderCommandID       = client.HeaderCommandID
	HeaderReason          = client.HeaderReason
	HeaderOriginalSubject = client.HeaderOriginalSubject
	// CloudEvents binary-mode attributes (https://github.com/cloudevents/spec, NATS binding).
	HeaderCEID          = "ce-id"
	HeaderCESource      = "ce-source"
	HeaderCEType        = "ce-type"
	HeaderCESpecVersion = "ce-specversion"
	HeaderCESubject     = "ce-subject"
	HeaderCETime        = "ce-time"
	HeaderContentType   = "content-type"
)

var orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// MaxOrderIDLength bounds order IDs so subjects and workflow IDs stay short.
const MaxOrderIDLength = 64

// ValidateOrderID reports why id cannot be used as an order ID (a
// *domain.FieldError for field order_id), or nil. An order ID is one NATS subject
// token: letters, digits, '_' and '-'.
func ValidateOrderID(id string) error {
	if id == "" {
		return &domain.FieldError{Field: "order_id", Reason: "is empty"}
	}
	if len(id) > MaxOrderIDLength {
		return &domain.FieldError{Field: "order_id", Reason: fmt.Sprintf("is longer than %d characters", MaxOrderIDLength)}
	}
	if !orderIDPattern.MatchString(id) {
		return &domain.FieldError{Field: "order_id", Reason: fmt.Sprintf("%q may contain only letters, digits, '_' and '-'", id)}
	}
	return nil
}

// CommandSubject is where a command of kind for orderID is published.
func CommandSubject(orderID string, kind CommandKind) string {
	return client.CommandSubject(orderID, kind)
}

// CommandsWildcard matches every command subject.
const CommandsWildcard = CommandsRoot + ".>"

// ParseCommandSubject splits orders.commands.<order_id>.<kind>. It checks the
// shape and the order ID, not whether kind is known.
func ParseCommandSubject(subject string) (orderID string, kind CommandKind, err error) {
	orderID, last, err := splitSubject(subject, CommandsRoot, "kind")
	if err != nil {
		return "", "", err
	}
	if err := ValidateOrderID(orderID); err != nil {
		return "", "", err
	}
	return orderID, CommandKind(last), nil
}

// splitSubject splits <root>.<order_id>.<last> into its last two tokens;
// what names the last one in the error.
func splitSubject(subject, root, what string) (orderID, last string, err error) {
	rest, ok := strings.CutPrefix(subject, root+".")
	if !ok {
		return "", "", fmt.Errorf("subject %q is not under %s", subject, root)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("subject %q is not %s.<order_id>.<%s>", subject, root, what)
	}
	return parts[0], parts[1], nil
}

// EventSubject is where an event of type t for orderID is published.
func EventSubject(orderID string, t EventType) string {
	return client.EventSubject(orderID, t)
}

// EventsWildcard matches every event subject.
const EventsWildcard = EventsRoot + ".>"

// StatusSubject answers live status requests for orderID (request/reply).
func StatusSubject(orderID string) string { return client.StatusSubject(orderID) }

// StatusWildcard matches every status subject; responders use a queue group.
const StatusWildcard = StatusRoot + ".*"

// ResultSubject carries the bridge's outcome of each command for orderID.
func ResultSubject(orderID string) string { return client.ResultSubject(orderID) }

// ResultsWildcard matches every result subject.
const ResultsWildcard = ResultsRoot + ".*"
