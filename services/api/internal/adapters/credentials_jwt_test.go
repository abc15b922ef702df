package adapters

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/testenv"
)

// signer is an identity provider: an EC key whose public half is in a
// JWKS file.
type signer struct {
	priv jwk.Key
	pub  jwk.Key
}

func newSigner(t *testing.T, kid string) signer {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = priv.Set(jwk.KeyIDKey, kid)
	_ = priv.Set(jwk.AlgorithmKey, jwa.ES256())
	pub, err := jwk.PublicKeyOf(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer{priv: priv, pub: pub}
}

func (s signer) token(t *testing.T, claims map[string]any, exp time.Time) string {
	t.Helper()
	b := jwt.NewBuilder().Expiration(exp)
	for k, v := range claims {
		b = b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), s.priv))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func writeJWKS(t *testing.T, keys ...jwk.Key) string {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		_ = set.AddKey(k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJWTAgainstJWKSFile(t *testing.T) {
	idp, other := newSigner(t, "idp-1"), newSigner(t, "idp-1")
	a, err := NewAuthenticator(AuthOptions{JWKSFile: writeJWKS(t, idp.pub), Issuer: "https://idp.example", Audience: "orderflow"},
		testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.Enabled() {
		t.Fatal("a JWKS alone must turn authentication on")
	}
	good := map[string]any{"iss": "https://idp.example", "aud": "orderflow", "sub": "shop-frontend",
		"scope": "orders:read orders:write profile"}
	ctx := context.Background()
	c, err := a.Authenticate(ctx, idp.token(t, good, time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "shop-frontend" || !c.Has(app.ScopeRead) || !c.Has(app.ScopeWrite) || c.Has(app.ScopeApprove) {
		t.Fatalf("client %+v", c)
	}
	scp := map[string]any{"iss": "https://idp.example", "aud": "orderflow", "client_id": "reviewer-tool", "sub": "u1",
		"scp": []string{"orders:approve"}}
	if c, err := a.Authenticate(ctx, idp.token(t, scp, time.Now().Add(time.Hour))); err != nil || c.ID != "reviewer-tool" || !c.Has(app.ScopeApprove) {
		t.Fatalf("client_id and scp: %+v %v", c, err)
	}
	for name, tok := range map[string]string{
		"expired":         idp.token(t, good, time.Now().Add(-time.Hour)),
		"other signer":    other.token(t, good, time.Now().Add(time.Hour)),
		"wrong issuer":    idp.token(t, map[string]any{"iss": "https://evil.example", "aud": "orderflow", "sub": "x"}, time.Now().Add(time.Hour)),
		"wrong audience":  idp.token(t, map[string]any{"iss": "https://idp.example", "aud": "other", "sub": "x"}, time.Now().Add(time.Hour)),
		"bad subject":     idp.token(t, map[string]any{"iss": "https://idp.example", "aud": "orderflow", "sub": "a b"}, time.Now().Add(time.Hour)),
		"not a jwt":       "a.b.c",
		"unsigned header": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
	} {
		if _, err := a.Authenticate(ctx, tok); !errors.Is(err, app.ErrUnauthenticated) {
			t.Errorf("%s: %v, want unauthenticated", name, err)
		}
	}
}
