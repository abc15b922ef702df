// Package adapters implements the interfaces internal/app owns, one file
// per technology:
//
//   - nats.go: Bus stores commands in JetStream (ORDER_COMMANDS), follows
//     the bridge's command outcomes and asks the bridge for live status
//     over request/reply; nats_feed.go: Feed follows ORDER_EVENTS for the
//     board's live stream.
//   - postgres.go: Store reads the projection the projector writes; the
//     API never writes these tables.
//   - credentials.go: Authenticator verifies bearer credentials, API keys
//     from a file reloaded on change (credentials_keys.go: its format) and
//     JWTs against a JWKS file or URL.
package adapters
