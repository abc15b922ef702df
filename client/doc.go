// Package client is the Go client of orderflow for systems that talk to it
// over NATS: typed commands (start, cancel, update address, approve) with
// command IDs and an optional wait for the bridge's outcome, a live status
// request, and a typed event subscriber that hands events over in per-order
// sequence.
//
// The module depends on nats.go only (the HTTP client in package
// [github.com/orderflow/orderflow/client/rest] adds the oapi-codegen
// runtime), so `go get github.com/orderflow/orderflow/client` does not pull
// in the services, the Temporal SDK or a NATS server. Its wire types and
// names are the services' too: shared/contracts and shared/domain alias
// them, so the services and this client cannot drift, and the AsyncAPI
// document in contracts/asyncapi.yaml describes the same messages.
package client
