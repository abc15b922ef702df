// Package contracts holds every name and message shape that crosses a process
// boundary: NATS streams and subjects, Temporal names, command, event and status
// payloads. Services import these instead of spelling names themselves, so a
// contract changes in exactly one place. What clients see too (the
// messages, streams, subjects and headers) is defined once in the published
// client module and aliased here; this package adds the services' side:
// decoding and validation, Temporal names and payloads, wildcards.
package contracts
