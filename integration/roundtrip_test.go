package integration_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// fill sets every field of v, recursively, to a distinct non-zero value, so
// a field one side has and the other lacks shows up as a difference.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, *n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(fmt.Sprintf(`{"n":%d}`, *n)))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint64:
		v.SetUint(uint64(*n))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// roundTrip fills a value of type From, sends it through To and back, and
// requires the JSON to be unchanged: a field missing, renamed or retyped on
// either side loses or alters data.
func roundTrip[From, To any](t *testing.T) {
	t.Helper()
	var src From
	n := 0
	fill(reflect.ValueOf(&src).Elem(), &n)
	want, err := json.Marshal(src)
	if err != nil {
		t.Fatal(err)
	}
	var mid To
	dec := json.NewDecoder(bytesReader(want))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mid); err != nil {
		t.Fatalf("%T does not decode as %T: %v", src, mid, err)
	}
	got, err := json.Marshal(mid)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, want, got) {
		t.Fatalf("%T -> %T changes the message:\n want %s\n  got %s", src, mid, want, got)
	}
}

// TestClientTypesMatchContracts keeps the client's wire types, which must
// not import shared, identical on the wire to the services' contracts, in
// both directions.
func TestClientTypesMatchContracts(t *testing.T) {
	roundTrip[contracts.Command, client.Command](t)
	roundTrip[client.Command, contracts.Command](t)
	roundTrip[contracts.CommandResult, client.CommandResult](t)
	roundTrip[client.CommandResult, contracts.CommandResult](t)
	roundTrip[contracts.Event, client.Event](t)
	roundTrip[client.Event, contracts.Event](t)
	roundTrip[contracts.StatusReply, client.StatusReply](t)
	roundTrip[client.StatusReply, contracts.StatusReply](t)

	// Names shared by both sides.
	pairs := map[string][2]string{
		"streams": {fmt.Sprint(contracts.StreamCommands, contracts.StreamEvents, contracts.StreamResults, contracts.StreamDLQ),
			fmt.Sprint(client.StreamCommands, client.StreamEvents, client.StreamResults, client.StreamDLQ)},
		"subjects": {contracts.CommandSubject("o", contracts.CommandUpdateAddress) + contracts.EventSubject("o", contracts.EventShipped) +
			contracts.ResultSubject("o") + contracts.StatusSubject("o") + contracts.DLQCommands + contracts.DLQEvents,
			client.CommandSubject("o", client.KindUpdateAddress) + client.EventSubject("o", client.EventShipped) +
				client.ResultSubject("o") + client.StatusSubject("o") + client.DLQCommands + client.DLQEvents},
		"headers": {contracts.HeaderMsgID + contracts.HeaderCommandID + contracts.HeaderReason + contracts.HeaderOriginalSubject,
			client.HeaderMsgID + client.HeaderCommandID + client.HeaderReason + client.HeaderOriginalSubject},
		"schema": {fmt.Sprint(contracts.EventSchemaVersion), fmt.Sprint(client.EventSchemaVersion)},
	}
	for name, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("%s differ: contracts %q, client %q", name, p[0], p[1])
		}
	}
	for _, s := range []domain.OrderState{domain.StateReceived, domain.StateValidated, domain.StateAwaitingApproval,
		domain.StateApproved, domain.StatePaid, domain.StateShipping, domain.StateDispatched,
		domain.StateShipped, domain.StateCancelled, domain.StateFailed} {
		if client.OrderState(s).Terminal() != s.Terminal() {
			t.Errorf("state %s: terminal differs", s)
		}
	}
}
