// Package contracts holds every name and message shape that crosses a process
// boundary: NATS streams and subjects, Temporal names, command, event and status
// payloads. Services import these instead of spelling names themselves, so a
// contract changes in exactly one place.
package contracts
