// Package scenarios is the scenario file format (parse, validate with line
// numbers, run), the fault script (triggers and actions) and the built-in
// catalogue embedded from catalog/*.yaml.
package scenarios

import (
	"fmt"
	"strings"
)

// Error is a problem with a scenario file or a --set override. It names the
// file, line, field and value, and says what is allowed.
type Error struct {
	File    string
	Line    int
	Field   string
	Value   string
	Allowed string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Value != "" || e.Field != "" {
		fmt.Fprintf(&b, "%q: ", e.Value)
	}
	b.WriteString(e.Allowed)
	return b.String()
}

// Errors is a list of problems, printed one per line.
type Errors []*Error

func (es Errors) Error() string {
	var s []string
	for _, e := range es {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
