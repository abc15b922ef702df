package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnauthenticated means the credentials are missing, unknown, expired
// or badly signed. Its text never includes the credential.
var ErrUnauthenticated = errors.New("unauthenticated")

// Scope is one permission a client holds.
type Scope string

// Scopes of the API.
const (
	ScopeWrite   Scope = "orders:write"   // start, cancel, update address
	ScopeApprove Scope = "orders:approve" // approve orders held for review
	ScopeRead    Scope = "orders:read"    // status, order, events, list
	ScopeCodec   Scope = "codec:decode"   // decode Temporal payloads (the UI's codec endpoint)
)

// Scopes lists every known scope.
var Scopes = []Scope{ScopeWrite, ScopeApprove, ScopeRead, ScopeCodec}

// Client is an authenticated caller.
type Client struct {
	ID     string
	Scopes []Scope
}

// Has reports whether c holds s.
func (c Client) Has(s Scope) bool { return slices.Contains(c.Scopes, s) }

// MaxClientIDLen bounds a client ID (it is stored as the order's owner).
const MaxClientIDLen = 128

// ValidateClientID accepts letters, digits and . _ - @ : up to
// MaxClientIDLen characters, so an ID is safe in logs and headers.
func ValidateClientID(id string) error {
	if id == "" || len(id) > MaxClientIDLen {
		return fmt.Errorf("client ID must be 1 to %d characters", MaxClientIDLen)
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._-@:", r):
		default:
			return fmt.Errorf("client ID %q has character %q (allowed: letters, digits and the marks . _ - @ and colon)", id, r)
		}
	}
	return nil
}
