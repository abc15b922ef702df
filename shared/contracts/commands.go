package contracts

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/shared/domain"
)

// CommandKind is the last token of a command subject.
type CommandKind string

// Command kinds accepted on orders.commands.<order_id>.<kind>.
const (
	CommandStart         CommandKind = "start"
	CommandCancel        CommandKind = "cancel"
	CommandUpdateAddress CommandKind = "update-address"
	CommandApprove       CommandKind = "approve"
)

// Valid reports whether k is a known command kind.
func (k CommandKind) Valid() bool {
	switch k {
	case CommandStart, CommandCancel, CommandUpdateAddress, CommandApprove:
		return true
	}
	return false
}

// Command is the JSON body of every command message. Which payload fields
// apply depends on the kind (taken from the subject, which is authoritative).
// CommandID repeats the Nats-Msg-Id header so a command stays traceable once
// it has left the broker.
type Command struct {
	CommandID string      `json:"command_id"`
	OrderID   string      `json:"order_id"`
	Kind      CommandKind `json:"kind"`
	IssuedAt  time.Time   `json:"issued_at"`
	// Owner is the client the command acts for: the API sets it to the
	// authenticated client; a NATS publisher names it itself (the
	// command-publisher role is trusted to do so). Empty means no owner
	// (the API running without keys).
	Owner string `json:"owner,omitempty"`

	// start
	PaymentID    string          `json:"payment_id,omitempty"`
	Items        []domain.Item   `json:"items,omitempty"`
	Address      *domain.Address `json:"address,omitempty"`
	ManualReview bool            `json:"manual_review,omitempty"`

	// update-address uses Address; cancel may carry a reason.
	Reason string `json:"reason,omitempty"`
}

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
			if err := c.Address.Validate(); err != nil {
				return err
			}
		}
	case CommandUpdateAddress:
		if c.Address == nil {
			return &domain.FieldError{Field: "address", Reason: "is required"}
		}
		return c.Address.Validate()
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
type Outcome string

// Command outcomes published on orders.results.<order_id>.
const (
	OutcomeStarted   Outcome = "started"   // start created the workflow
	OutcomeDuplicate Outcome = "duplicate" // start or signal already applied; nothing done again
	OutcomeApplied   Outcome = "applied"   // signal delivered to the workflow
	OutcomeRejected  Outcome = "rejected"  // cannot be applied; see Reason
)

// CommandResult is published by the bridge for every command it settles, so
// a sender (HTTP with `Prefer: wait`, or a NATS client) learns the outcome.
type CommandResult struct {
	CommandID  string      `json:"command_id"`
	OrderID    string      `json:"order_id"`
	Kind       CommandKind `json:"kind"`
	Outcome    Outcome     `json:"outcome"`
	Reason     string      `json:"reason,omitempty"`
	WorkflowID string      `json:"workflow_id,omitempty"`
	RunID      string      `json:"run_id,omitempty"`
	At         time.Time   `json:"at"`
}

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
type StatusReply struct {
	Source         string            `json:"source"` // "temporal"
	WorkflowID     string            `json:"workflow_id,omitempty"`
	RunID          string            `json:"run_id,omitempty"`
	WorkflowStatus string            `json:"workflow_status,omitempty"` // RUNNING, COMPLETED, ...
	Status         *OrderStatus      `json:"status,omitempty"`
	Pending        []PendingActivity `json:"pending_activities,omitempty"`
	Error          string            `json:"error,omitempty"` // set when the order is unknown or Temporal failed
	NotFound       bool              `json:"not_found,omitempty"`
	// Owner is the client that started the order, valid when OwnerKnown
	// (Temporal answered the describe or the query).
	Owner      string `json:"owner,omitempty"`
	OwnerKnown bool   `json:"owner_known,omitempty"`
}

// PendingActivity is Temporal's view of a running activity or child.
type PendingActivity struct {
	Type        string     `json:"type"`
	Attempt     int32      `json:"attempt"`
	State       string     `json:"state"`
	LastFailure string     `json:"last_failure,omitempty"`
	LastStarted *time.Time `json:"last_started,omitempty"`
}
