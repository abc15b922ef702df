package adapters

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/orderflow/orderflow/services/api/internal/app"
)

// ParseScopes parses a comma-separated scope list.
func ParseScopes(s string) ([]app.Scope, error) {
	var out []app.Scope
	for part := range strings.SplitSeq(s, ",") {
		sc := app.Scope(strings.TrimSpace(part))
		if !slices.Contains(app.Scopes, sc) {
			return nil, fmt.Errorf("unknown scope %q (known: %v)", sc, app.Scopes)
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
type Keys map[Digest]app.Client

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
		if err := app.ValidateClientID(fields[0]); err != nil {
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
		keys[d] = app.Client{ID: fields[0], Scopes: scopes}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys in the file")
	}
	return keys, nil
}
