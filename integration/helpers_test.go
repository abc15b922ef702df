package integration_test

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
