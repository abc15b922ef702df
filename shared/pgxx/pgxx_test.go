package pgxx_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// writeCA writes a self-signed CA certificate in PEM.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sslmode=verify-full in DATABASE_URL reaches the pool untouched: the
// server's certificate is checked against sslrootcert and its name against
// the host, with no fallback to plain text.
func TestVerifyFullIsKept(t *testing.T) {
	ca := writeCA(t)
	pool, err := pgxx.Open(context.Background(), config.Postgres{
		URL:      "postgres://app@db.internal:5432/orderflow?sslmode=verify-full&sslrootcert=" + ca,
		MaxConns: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cc := pool.Config().ConnConfig
	if cc.TLSConfig == nil || cc.TLSConfig.InsecureSkipVerify || cc.TLSConfig.ServerName != "db.internal" || cc.TLSConfig.RootCAs == nil {
		t.Fatalf("verify-full TLS config: %+v", cc.TLSConfig)
	}
	if len(cc.Fallbacks) != 0 {
		t.Fatalf("verify-full must not fall back to another mode: %d fallbacks", len(cc.Fallbacks))
	}
	if pool.Config().MaxConns != 2 {
		t.Fatalf("MaxConns %d", pool.Config().MaxConns)
	}
}

// TestCreateAndDropDatabase: CreateDatabase creates a missing database and
// leaves an existing one, DropDatabase drops it and does not mind its
// absence.
func TestCreateAndDropDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := url.Parse(testenv.AdminDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + strings.ReplaceAll(testenv.UniqueName("pgxx_test"), "-", "_")
	dbURL := u.String()
	t.Cleanup(func() { _ = pgxx.DropDatabase(context.Background(), dbURL) })

	for range 2 {
		if err := pgxx.CreateDatabase(ctx, dbURL); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatalf("database not there after CreateDatabase: %v", err)
		}
		conn.Close(ctx)
	}
	for range 2 {
		if err := pgxx.DropDatabase(ctx, dbURL); err != nil {
			t.Fatal(err)
		}
	}
	if conn, err := pgx.Connect(ctx, dbURL); err == nil {
		conn.Close(ctx)
		t.Fatal("database still there after DropDatabase")
	}
}
