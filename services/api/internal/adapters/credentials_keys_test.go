package adapters

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/services/api/internal/app"
)

func digestHex(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

func TestParseKeys(t *testing.T) {
	a, b := digestHex("key-a"), digestHex("key-b")
	good := "# comment line\n\nalice orders:write,orders:read " + a + "  # trailing comment\n" +
		"bob\torders:approve\t" + strings.ToUpper(b) + "\n"
	keys, err := ParseKeys([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c := keys[HashKey("key-a")]; c.ID != "alice" || !c.Has(app.ScopeWrite) || !c.Has(app.ScopeRead) || c.Has(app.ScopeApprove) {
		t.Fatalf("alice: %+v", c)
	}
	if c := keys[HashKey("key-b")]; c.ID != "bob" || !c.Has(app.ScopeApprove) || c.Has(app.ScopeRead) {
		t.Fatalf("bob: %+v", c)
	}
	for name, bad := range map[string]string{
		"empty":            "# only comments\n",
		"two fields":       "alice orders:read\n",
		"four fields":      "alice orders:read " + a + " extra\n",
		"unknown scope":    "alice orders:admin " + a + "\n",
		"empty scope":      "alice orders:read, " + a + "\n",
		"short digest":     "alice orders:read " + a[:62] + "\n",
		"not hex":          "alice orders:read " + strings.Repeat("zz", 32) + "\n",
		"raw key not hash": "alice orders:read key-a\n",
		"bad client id":    "al/ice orders:read " + a + "\n",
		"duplicate digest": "alice orders:read " + a + "\nbob orders:read " + a + "\n",
	} {
		if _, err := ParseKeys([]byte(bad)); err == nil {
			t.Errorf("%s: accepted %q", name, bad)
		} else if strings.Contains(err.Error(), "key-a") {
			t.Errorf("%s: error repeats the key: %v", name, err)
		}
	}
}

// FuzzParseKeys: any file either fails or yields clients whose IDs and
// scopes are valid; nothing panics.
func FuzzParseKeys(f *testing.F) {
	f.Add([]byte("alice orders:write,orders:read " + digestHex("k") + " # c\n"))
	f.Add([]byte("# nothing\n\n"))
	f.Add([]byte("bob orders:approve " + digestHex("x") + "\nbob orders:read " + digestHex("y")))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(data)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		for _, c := range keys {
			if err := app.ValidateClientID(c.ID); err != nil {
				t.Fatalf("accepted client ID %q: %v", c.ID, err)
			}
			if len(c.Scopes) == 0 {
				t.Fatalf("client %q without scopes", c.ID)
			}
			for _, s := range c.Scopes {
				if _, err := ParseScopes(string(s)); err != nil {
					t.Fatalf("accepted scope %q", s)
				}
			}
		}
	})
}
