package contracts

import (
	"encoding/json"
	"fmt"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/shared/domain"
)

// CommandKind is the last token of a command subject.
type CommandKind = client.CommandKind

// Command kinds accepted on orders.commands.<order_id>.<kind>.
const (
	CommandStart         = client.KindStart
	CommandCancel        = client.KindCancel
	CommandUpdateAddress = client.KindUpdateAddress
	CommandApprove       = client.KindApprove
)

// Command is the JSON body of every command message: client.Command's
// fields, as a type of its own so it can carry the services' Validate.
type Command client.Command

// MaxOwnerLen bounds a client ID.
const MaxOwnerLen = 128

// MaxCommandBytes bounds a command body on the wire.
const MaxCommandBytes = 64 << 10

// DecodeCommand parses and validates a command read from subject. The
// returned error is permanent: the message can never be applied, so it
// belongs in the dead-letter subject.
func DecodeCommand(subject string, body []byte) (Command, error) {
	orderID, kind, err := ParseCommandSubject(subject)
	if err != nil {
		return Command{}, err
	}
	if !kind.Valid() {
		return Command{}, fmt.Errorf("unknown command kind %q", kind)
	}
	if len(body) > MaxCommandBytes {
		return Command{}, fmt.Errorf("command body is %d bytes, more than %d", len(body), MaxCommandBytes)
	}
	var c Command
	if len(body) > 0 {
		if err := json.Unmarshal(body, &c); err != nil {
			return Command{}, fmt.Errorf("command body is not valid JSON: %w", err)
		}
	}
	if c.OrderID != "" && c.OrderID != orderID {
		return Command{}, fmt.Errorf("body order_id %q does not match subject order_id %q", c.OrderID, orderID)
	}
	if c.Kind != "" && c.Kind != kind {
		return Command{}, fmt.Errorf("body kind %q does not match subject kind %q", c.Kind, kind)
	}
	c.OrderID, c.Kind = orderID, kind
	if err := c.Validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

// Validate checks the fields the command's kind needs. Missing items or
// address on a start are allowed: the defaults keep the seed's minimal
// request working.
func (c Command) Validate() error {
	if err := ValidateOrderID(c.OrderID); err != nil {
		return err
	}
	switch c.Kind {
	case CommandStart:
		if c.PaymentID == "" {
			return &domain.FieldError{Field: "payment_id", Reason: "is required"}
		}
		if len(c.PaymentID) > 128 {
			return &domain.FieldError{Field: "payment_id", Reason: "is longer than 128 characters"}
		}
		if c.Items != nil {
			if err := domain.ValidateItems(c.Items); err != nil {
				return err
			}
		}
		if c.Address != nil {
			if err := domain.ValidateAddress(*c.Address); err != nil {
				return err
			}
		}
	case CommandUpdateAddress:
		if c.Address == nil {
			return &domain.FieldError{Field: "address", Reason: "is required"}
		}
		return domain.ValidateAddress(*c.Address)
	case CommandCancel, CommandApprove:
	default:
		return &domain.FieldError{Field: "kind", Reason: fmt.Sprintf("unknown command kind %q", c.Kind)}
	}
	if len(c.Owner) > MaxOwnerLen {
		return &domain.FieldError{Field: "owner", Reason: fmt.Sprintf("is longer than %d characters", MaxOwnerLen)}
	}
	if len(c.Reason) > 500 {
		return &domain.FieldError{Field: "reason", Reason: "is longer than 500 characters"}
	}
	return nil
}

// Outcome is what the bridge did with a command.
type Outcome = client.Outcome

// Command outcomes published on orders.results.<order_id>.
const (
	OutcomeStarted   = client.OutcomeStarted
	OutcomeDuplicate = client.OutcomeDuplicate
	OutcomeApplied   = client.OutcomeApplied
	OutcomeRejected  = client.OutcomeRejected
)

// CommandResult is published by the bridge for every command it settles.
type CommandResult = client.CommandResult

// SignalPayload is the argument of the cancel, update-address and approve
// signals. CommandID lets the workflow ignore a redelivered signal.
type SignalPayload struct {
	CommandID string          `json:"command_id"`
	Address   *domain.Address `json:"address,omitempty"`
	Reason    string          `json:"reason,omitempty"`
}

// DispatchFailedPayload is the argument of the child's dispatch-failed signal.
type DispatchFailedPayload struct {
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
}

// StatusReply answers a request on orders.status.<order_id>.
type StatusReply = client.StatusReply

// PendingActivity is Temporal's view of a running activity or child.
type PendingActivity = client.PendingActivity
