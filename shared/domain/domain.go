// Package domain is the order itself, apart from how it travels: its
// lines, address and total, the lifecycle states and the business steps,
// and the validation the API and the workflow's validate step share. The
// wire types in shared/contracts are built from these.
package domain

import (
	"fmt"
	"strings"
)

// Item is one order line. Prices are integer cents to avoid float rounding.
type Item struct {
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
}

// Address is a shipping address; field names follow the seed's API.
type Address struct {
	Street  string `json:"street"`
	City    string `json:"city"`
	State   string `json:"state"`
	ZipCode string `json:"zip_code"`
}

// Validate names the first missing or oversized field.
func (a Address) Validate() error {
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

// OrderState is the order's coarse lifecycle state.
type OrderState string

// Order states. Terminal states: shipped, cancelled, failed.
const (
	StateReceived         OrderState = "received"
	StateValidated        OrderState = "validated"
	StateAwaitingApproval OrderState = "awaiting_approval"
	StateApproved         OrderState = "approved"
	StatePaid             OrderState = "paid"
	StateShipping         OrderState = "shipping"
	StateDispatched       OrderState = "dispatched"
	StateShipped          OrderState = "shipped"
	StateCancelled        OrderState = "cancelled"
	StateFailed           OrderState = "failed"
)

// Terminal reports whether no further transition can happen.
func (s OrderState) Terminal() bool {
	return s == StateShipped || s == StateCancelled || s == StateFailed
}

// Step names a business step; each one goes through the fault injector.
type Step string

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
