package ports

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

var fixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// checkCommandOrProblem is the property every request decoder keeps: it
// either yields a command the bridge's own decoder accepts unchanged, or an
// error that maps to a 4xx problem naming what was wrong.
func checkCommandOrProblem(t *testing.T, cmd contracts.Command, err error) {
	t.Helper()
	if err != nil {
		p := problemFor(err)
		if p.Status != http.StatusBadRequest && p.Status != http.StatusUnsupportedMediaType {
			t.Fatalf("decode error %v maps to %d", err, p.Status)
		}
		if p.Field == "" && p.Type == typeValidation {
			t.Fatalf("validation problem without field: %+v", p)
		}
		return
	}
	body, merr := json.Marshal(cmd)
	if merr != nil {
		t.Fatalf("marshal: %v", merr)
	}
	got, derr := contracts.DecodeCommand(contracts.CommandSubject(cmd.OrderID, cmd.Kind), body)
	if derr != nil {
		t.Fatalf("accepted command %+v is refused by DecodeCommand: %v", cmd, derr)
	}
	if !reflect.DeepEqual(got, cmd) {
		t.Fatalf("command changed on the wire:\n%+v\n%+v", cmd, got)
	}
}

func FuzzBuildStart(f *testing.F) {
	for _, s := range []struct{ ctype, body string }{
		{"application/json", `{"payment_id": "payment-456"}`},
		{"application/json", `{"payment_id":"p","items":[{"sku":"a","quantity":1,"price_cents":5}],"manual_review":true}`},
		{"application/json", `{"payment_id":"p","address":{"street":"s","city":"c","state":"s","zip_code":"z"}}`},
		{"application/json", `{"payment_id":"p","items":[]}`},
		{"application/json", `{"payment_id":"p","items":null}`},
		{"application/json", `{"payment_id":"p","items":[{"sku":"a","quantity":1e3,"price_cents":1}]}`},
		{"application/json", `{"payment_id":"\u0000"}`},
		{"application/json", `{"payment_id":"p"} x`},
		{"application/json", `[]`},
		{"application/json", `{"payment_id":`},
		{"text/plain", `{"payment_id":"p"}`},
		{"", ""},
		{"application/merge-patch+json", `{"payment_id":"p","extra":1}`},
	} {
		f.Add(s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		cmd, err := buildStart("order-1", "cmd-1", ctype, body, fixedNow)
		checkCommandOrProblem(t, cmd, err)
		if err == nil && (len(cmd.Items) == 0 || cmd.Address == nil) {
			t.Fatalf("accepted start without items or address: %+v", cmd)
		}
	})
}

func FuzzBuildSignal(f *testing.F) {
	kinds := []contracts.CommandKind{contracts.CommandCancel, contracts.CommandUpdateAddress, contracts.CommandApprove}
	for i, body := range []string{
		``, `{"reason":"too slow"}`, `{"street":"1","city":"2","state":"3","zip_code":"4"}`, `{}`,
		`{"street":"","city":"2","state":"3","zip_code":"4"}`, `{"approved":true}`, `null`, `"x"`,
	} {
		f.Add(uint8(i), "application/json", []byte(body))
	}
	f.Add(uint8(0), "", []byte(`{"reason":"x"}`))
	f.Fuzz(func(t *testing.T, k uint8, ctype string, body []byte) {
		kind := kinds[int(k)%len(kinds)]
		cmd, err := buildSignal(kind, "order-1", "cmd-1", ctype, body, fixedNow)
		checkCommandOrProblem(t, cmd, err)
		if err == nil && kind == contracts.CommandUpdateAddress && cmd.Address == nil {
			t.Fatalf("update-address accepted without an address")
		}
	})
}

func FuzzPreferWait(f *testing.F) {
	for _, s := range []string{"wait=5", "respond-async, wait=10", "wait=\"3\"", "WAIT = 2", "wait=-1",
		"wait=99999999999999999999", "return=minimal", "wait", "wait=1;foo=bar", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		max := 30 * time.Second
		d, ok := preferWait([]string{h}, max)
		if d < 0 || d > max || (!ok && d != 0) {
			t.Fatalf("preferWait(%q) = %s, %v", h, d, ok)
		}
	})
}

func FuzzCursor(f *testing.F) {
	f.Add("", int64(0), "")
	f.Add("order-1", int64(1767225600123456), "eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJvIjoib3JkZXItMSJ9")
	f.Add("a", int64(-5), "e30")
	f.Fuzz(func(t *testing.T, id string, micros int64, raw string) {
		if c, err := decodeCursor(raw); err == nil && (c.AcceptedAt.IsZero() || contracts.ValidateOrderID(c.OrderID) != nil) {
			t.Fatalf("decodeCursor(%q) accepted %+v", raw, c)
		}
		if contracts.ValidateOrderID(id) != nil {
			return
		}
		in := app.Cursor{AcceptedAt: time.UnixMicro(micros).UTC(), OrderID: id}
		if in.AcceptedAt.IsZero() || in.AcceptedAt.Year() > 9999 || in.AcceptedAt.Year() < 1 {
			return
		}
		out, err := decodeCursor(encodeCursor(in))
		if err != nil || !out.AcceptedAt.Equal(in.AcceptedAt) || out.OrderID != in.OrderID {
			t.Fatalf("cursor round trip %+v -> %+v, %v", in, out, err)
		}
	})
}

func TestPreferWait(t *testing.T) {
	max := 10 * time.Second
	for _, tc := range []struct {
		headers []string
		want    time.Duration
		ok      bool
	}{
		{nil, 0, false},
		{[]string{"wait=3"}, 3 * time.Second, true},
		{[]string{"respond-async, wait=4"}, 4 * time.Second, true},
		{[]string{"return=minimal", "Wait=2"}, 2 * time.Second, true},
		{[]string{"wait=60"}, max, true},
		{[]string{"wait=0"}, 0, true},
		{[]string{"wait=abc"}, 0, false},
		{[]string{"wait=-3"}, 0, false},
		{[]string{`wait="5"; x=y`}, 5 * time.Second, true},
	} {
		got, ok := preferWait(tc.headers, max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("preferWait(%q) = %s, %v; want %s, %v", tc.headers, got, ok, tc.want, tc.ok)
		}
	}
}

// TestProblemMapping pins the one error-to-status table.
func TestProblemMapping(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		typ    string
	}{
		{&domain.FieldError{Field: "x", Reason: "bad"}, 400, typeValidation},
		{malformed("body", "x"), 400, typeMalformed},
		{&app.RejectedError{Result: contracts.CommandResult{Reason: "late"}}, 409, typeRejected},
		{errors.Join(errors.New("read"), app.ErrNotFound), 404, typeNotFound},
		{errors.Join(errors.New("publish"), app.ErrUnavailable), 503, typeUnavailable},
		{errors.Join(errors.New("x"), contextDeadline()), 504, typeTimeout},
		{&notReadyError{checks: map[string]string{"nats": "down"}}, 503, typeNotReady},
		{errors.New("boom"), 500, typeInternal},
	} {
		p := problemFor(tc.err)
		if p.Status != tc.status || p.Type != tc.typ {
			t.Errorf("problemFor(%v) = %d %s; want %d %s", tc.err, p.Status, p.Type, tc.status, tc.typ)
		}
	}
}

func contextDeadline() error {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	return ctx.Err()
}
