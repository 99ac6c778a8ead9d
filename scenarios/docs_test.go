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
	for a := range Actions {
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
