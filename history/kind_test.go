package history

import (
	"encoding/json"
	"testing"
)

// Every kind has a distinct name that round-trips through JSON.
func TestKindNames(t *testing.T) {
	seen := map[string]Kind{}
	for k := Kind(1); k < numKinds; k++ {
		n := k.String()
		if n == "" {
			t.Fatalf("kind %d has no name", k)
		}
		if o, dup := seen[n]; dup {
			t.Fatalf("kinds %d and %d share the name %q", o, k, n)
		}
		seen[n] = k
		b, err := json.Marshal(Event{Kind: k})
		if err != nil {
			t.Fatal(err)
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil || e.Kind != k {
			t.Fatalf("kind %s: round trip gave %v, %v", k, e.Kind, err)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("no-such-kind")); err == nil {
		t.Fatal("an unknown name was accepted")
	}
}
