package scenarios

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"acksim/model/check"

	"pgregory.net/rapid"
)

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }

func itoa(n int) string { return strconv.Itoa(n) }

// flagSetDefault sets a flag unless it was given on the command line.
func flagSetDefault(name, value string) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if !set {
		flag.Set(name, value)
	}
}

// parseDoc parses a scenario written in a test.
func parseDoc(t *testing.T, name, doc string) *Scenario {
	t.Helper()
	s, err := Parse(name, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runSet applies --set pairs to s and runs it (loadSc loads a built-in
// with its pairs).
func runSet(t *testing.T, s *Scenario, opt Options, sets ...string) *Result {
	t.Helper()
	for _, kv := range sets {
		if err := s.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Run(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runDrawn draws a fault schedule within o for s (with no expectations),
// runs it, and returns the verdict and the schedule as text for failure
// messages; sets name the configuration in those messages.
func runDrawn(rt *rapid.T, s *Scenario, o ExploreOptions, sets []string) (*check.Verdict, string) {
	oo := o
	oo.defaults(s)
	s.Steps = steps(drawSchedule(rt, s, oo))
	s.Expect = nil
	res, err := Run(s, Options{})
	if err != nil {
		rt.Fatalf("%v: %v", sets, err)
	}
	return res.Verdict, describeSteps(s.Steps)
}

// describeSteps is a schedule as one line.
func describeSteps(ss []Step) string {
	var st []string
	for _, x := range ss {
		st = append(st, x.Describe())
	}
	return strings.Join(st, "; ")
}
