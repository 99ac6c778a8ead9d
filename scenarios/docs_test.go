package scenarios

import (
	"os"
	"strings"
	"testing"

	"acksim/model/check"
)

// docs/scenarios.md must document every config key, action and expect field.
func TestReferenceDocumentsEverything(t *testing.T) {
	b, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var missing []string
	for _, s := range settings {
		if !strings.Contains(doc, "`"+s.name+"`") {
			missing = append(missing, s.name)
		}
	}
	for _, a := range ActionNames() {
		if !strings.Contains(doc, "`"+a+"`") {
			missing = append(missing, "action "+a)
		}
	}
	for _, f := range check.Fields {
		if !strings.Contains(doc, "`"+f+"`") {
			missing = append(missing, "expect "+f)
		}
	}
	for _, k := range condKinds {
		if !strings.Contains(doc, k) {
			missing = append(missing, "when "+k)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("docs/scenarios.md does not mention: %s", strings.Join(missing, ", "))
	}
}

// The actions and fault kinds in docs/scenarios.md are the fault table's,
// verbatim between the markers. Regenerate with: go test ./scenarios -update
func TestReferenceFaultTable(t *testing.T) {
	const path = "../docs/scenarios.md"
	const begin, end = "<!-- fault table: generated from scenarios/faults.go; go test ./scenarios -update -->\n", "<!-- end fault table -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the fault table markers", path)
	}
	want := doc[:i+len(begin)] + FaultDocs() + doc[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != doc {
		t.Fatalf("%s's fault table differs from the fault table in faults.go; regenerate with go test ./scenarios -update", path)
	}
}
