// Package domain is the order itself, apart from how it travels: its
// lines, address and total, the lifecycle states and the business steps,
// and the validation the API and the workflow's validate step share.
//
// The value types (Item, Address, OrderState) are the published client
// module's, aliased, because they travel inside the wire messages defined
// there once for the services and their clients; this package adds the
// rules the services apply to them.
package domain

import (
	"fmt"
	"strings"

	"github.com/orderflow/orderflow/client"
)

// Item is one order line. Prices are integer cents to avoid float rounding.
type Item = client.Item

// Address is a shipping address; field names follow the seed's API.
type Address = client.Address

// ValidateAddress names the first missing or oversized field of a.
func ValidateAddress(a Address) error {
	for _, f := range []struct{ name, v string }{
		{"street", a.Street}, {"city", a.City}, {"state", a.State}, {"zip_code", a.ZipCode},
	} {
		if strings.TrimSpace(f.v) == "" {
			return &FieldError{Field: f.name, Reason: "is required"}
		}
		if len(f.v) > 200 {
			return &FieldError{Field: f.name, Reason: "is longer than 200 characters"}
		}
	}
	return nil
}

// FieldError says which input field is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Reason }

// DefaultItems is used when a start command carries no items, so the seed's
// minimal `{"payment_id": ...}` request still yields a valid order.
func DefaultItems() []Item {
	return []Item{{SKU: "SKU-DEFAULT", Quantity: 1, PriceCents: 1999}}
}

// DefaultAddress is used when a start command carries no address.
func DefaultAddress() Address {
	return Address{Street: "1 Default St", City: "Springfield", State: "CA", ZipCode: "94000"}
}

// TotalCents is the amount charged for items.
func TotalCents(items []Item) int64 {
	var total int64
	for _, it := range items {
		total += int64(it.Quantity) * it.PriceCents
	}
	return total
}

// OrderState is the order's coarse lifecycle state; its Terminal method
// says whether no further transition can happen.
type OrderState = client.OrderState

// Order states. Terminal states: shipped, cancelled, failed.
const (
	StateReceived         = client.StateReceived
	StateValidated        = client.StateValidated
	StateAwaitingApproval = client.StateAwaitingApproval
	StateApproved         = client.StateApproved
	StatePaid             = client.StatePaid
	StateShipping         = client.StateShipping
	StateDispatched       = client.StateDispatched
	StateShipped          = client.StateShipped
	StateCancelled        = client.StateCancelled
	StateFailed           = client.StateFailed
)

// Step names a business step; each one goes through the fault injector.
// It is a plain string because the wire types key attempts and errors by
// string (the published client has no step type).
type Step = string

// Business steps in lifecycle order.
const (
	StepReceive         Step = "receive_order"
	StepValidate        Step = "validate_order"
	StepManualReview    Step = "manual_review"
	StepChargePayment   Step = "charge_payment"
	StepPreparePackage  Step = "prepare_package"
	StepDispatchCarrier Step = "dispatch_carrier"
	StepMarkShipped     Step = "mark_shipped"
	StepRefundPayment   Step = "refund_payment"
)

// ValidateItems is the single place items are checked, by the API and by the
// workflow's validate step. An empty list is invalid (the lifecycle's
// permanent validation failure).
func ValidateItems(items []Item) error {
	if len(items) == 0 {
		return &FieldError{Field: "items", Reason: "must contain at least one item"}
	}
	if len(items) > 100 {
		return &FieldError{Field: "items", Reason: "may contain at most 100 items"}
	}
	for i, it := range items {
		switch {
		case strings.TrimSpace(it.SKU) == "" || len(it.SKU) > 64:
			return &FieldError{Field: fmt.Sprintf("items[%d].sku", i), Reason: "must be 1 to 64 characters"}
		case it.Quantity < 1 || it.Quantity > 1000:
			return &FieldError{Field: fmt.Sprintf("items[%d].quantity", i), Reason: "must be between 1 and 1000"}
		case it.PriceCents < 0 || it.PriceCents > 100_000_000:
			return &FieldError{Field: fmt.Sprintf("items[%d].price_cents", i), Reason: "must be between 0 and 100000000"}
		}
	}
	return nil
}
