package ports

import (
	"slices"
	"testing"
	"time"
)

// A partition hands out held commands by stream sequence whatever order they
// arrived in, and puts a requeued one back in its place.
func TestPartitionOrdersByStreamSequence(t *testing.T) {
	p := &partition{wake: make(chan struct{}, 1)}
	now := time.Now()
	for _, seq := range []uint64{7, 3, 9, 5} {
		if !p.push(&entry{key: "a", seq: seq}) {
			t.Fatal("push refused")
		}
	}
	e, _ := p.take(now)
	if e.seq != 3 {
		t.Fatalf("took %d first, want 3", e.seq)
	}
	// A late redelivery of an earlier command goes ahead of the rest.
	p.push(&entry{key: "a", seq: 1})
	p.requeue(e)
	if got, want := drain(p, now), []uint64{1, 3, 5, 7, 9}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if q := p.close(); len(q) != 0 || p.push(&entry{seq: 13}) {
		t.Fatalf("close returned %v and still accepts pushes", q)
	}
}

// A command that is not due yet holds back its own order's later commands,
// not the other orders sharing the partition.
func TestPartitionHoldsBackOnlyTheWaitingOrder(t *testing.T) {
	p := &partition{wake: make(chan struct{}, 1)}
	now := time.Now()
	p.push(&entry{key: "a", seq: 1, notBefore: now.Add(time.Second)})
	p.push(&entry{key: "a", seq: 2})
	p.push(&entry{key: "b", seq: 3})
	p.push(&entry{key: "c", seq: 4, notBefore: now.Add(500 * time.Millisecond)})
	if got, want := drain(p, now), []uint64{3}; !slices.Equal(got, want) {
		t.Fatalf("took %v while a and c wait, want %v", got, want)
	}
	if e, wait := p.take(now); e != nil || wait != 500*time.Millisecond {
		t.Fatalf("took %+v, wait %s; want nothing until c is due in 500ms", e, wait)
	}
	if got, want := drain(p, now.Add(time.Second)), []uint64{1, 2, 4}; !slices.Equal(got, want) {
		t.Fatalf("once due took %v, want %v", got, want)
	}
}

func drain(p *partition, now time.Time) []uint64 {
	var got []uint64
	for {
		e, _ := p.take(now)
		if e == nil {
			return got
		}
		got = append(got, e.seq)
		p.settle()
	}
}
