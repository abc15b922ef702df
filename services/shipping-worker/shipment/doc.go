// Package shipment owns ShippingWorkflow, the child of an order that
// prepares the package and dispatches it to the carrier, and its steps,
// served as Temporal activities on the shipping task queue.
//
// Files: worker.go is the configuration (Config) and RunWorker;
// workflow.go is the business process, step by step; activities.go are the
// steps and their dependencies (Activities); carrier.go is the carrier the
// dispatch step hands the package to (the simulated one keeps its parcels
// in PostgreSQL, one per idempotency key, so no order ever gets two);
// signals.go decides the cancel and update-address signals the parent
// forwards; progress.go reports progress and decisions to the parent, which
// publishes the events. activityio/ holds the activities' argument, shared
// with v0/, the previous release, kept for children it started.
package shipment
