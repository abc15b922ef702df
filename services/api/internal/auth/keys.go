// Package auth authenticates API clients (API keys from a file that is
// reloaded on change, optionally JWTs checked against a JWKS) and names
// what each client may do (scopes).
package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

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

// ParseScopes parses a comma-separated scope list.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for part := range strings.SplitSeq(s, ",") {
		sc := Scope(strings.TrimSpace(part))
		if !slices.Contains(Scopes, sc) {
			return nil, fmt.Errorf("unknown scope %q (known: %v)", sc, Scopes)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// Digest is the SHA-256 of an API key: the file stores digests only, so
// reading it does not reveal a key.
type Digest [sha256.Size]byte

// HashKey returns the digest of key.
func HashKey(key string) Digest { return sha256.Sum256([]byte(key)) }

// Keys maps key digests to their clients. One client may hold several keys
// (that is how a key is rotated: add the new one, then drop the old one).
type Keys map[Digest]Client

// ParseKeys parses an API keys file: one key per line,
// `<client-id> <scope>[,<scope>...] <sha256 of the key, hex>`; `#` starts a
// comment. Any bad line fails the whole file, so a typo never silently drops
// or widens a client's access.
func ParseKeys(data []byte) (Keys, error) {
	keys := Keys{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d: want `<client-id> <scopes> <sha256-hex>`, got %d fields", n, len(fields))
		}
		if err := ValidateClientID(fields[0]); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		scopes, err := ParseScopes(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		var d Digest
		if raw, err := hex.DecodeString(fields[2]); err != nil || len(raw) != len(d) {
			return nil, fmt.Errorf("line %d: the third field must be the 64 hex digits of the key's SHA-256", n)
		} else {
			copy(d[:], raw)
		}
		if prev, dup := keys[d]; dup {
			return nil, fmt.Errorf("line %d: this key digest is already given to client %s", n, prev.ID)
		}
		keys[d] = Client{ID: fields[0], Scopes: scopes}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys in the file")
	}
	return keys, nil
}
