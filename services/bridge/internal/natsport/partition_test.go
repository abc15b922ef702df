package natsport

import (
	"slices"
	"testing"
	"time"
)

// A partition hands out held commands by stream sequence whatever order they
// arrived in, holds back one that is not due, and puts a requeued one back in
// its place.
func TestPartitionOrdersByStreamSequence(t *testing.T) {
	p := &partition{wake: make(chan struct{}, 1)}
	now := time.Now()
	for _, seq := range []uint64{7, 3, 9, 5} {
		if !p.push(&entry{seq: seq}) {
			t.Fatal("push refused")
		}
	}
	e, _ := p.take(now)
	if e.seq != 3 {
		t.Fatalf("took %d first, want 3", e.seq)
	}
	// A late redelivery of an earlier command goes ahead of the rest.
	p.push(&entry{seq: 1})
	p.requeue(e)
	var got []uint64
	for {
		e, _ := p.take(now)
		if e == nil {
			break
		}
		got = append(got, e.seq)
		p.settle()
	}
	if want := []uint64{1, 3, 5, 7, 9}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}

	p.push(&entry{seq: 11, notBefore: now.Add(time.Second)})
	p.push(&entry{seq: 12})
	if e, wait := p.take(now); e != nil || wait != time.Second {
		t.Fatalf("took %+v (wait %s) before the earliest was due", e, wait)
	}
	if e, _ := p.take(now.Add(time.Second)); e == nil || e.seq != 11 {
		t.Fatalf("took %+v once due, want 11", e)
	}
	if q := p.close(); len(q) != 1 || q[0].seq != 12 || p.push(&entry{seq: 13}) {
		t.Fatalf("close returned %v and still accepts pushes", q)
	}
}
