// Package integration owns the tests that run the whole of orderflow in
// process (integration/stack) and use it the way its users do: the Go
// client and the generated HTTP client driving orders, the board in a
// browser, the AsyncAPI description checked against real traffic, and the
// client's types against the contracts, from inside and outside the
// workspace.
package integration
