package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

//go:embed catalog/*.yaml
var catalogFS embed.FS

// Catalog returns every built-in scenario, sorted by name. A built-in that
// does not parse is a bug, caught by the tests.
func Catalog() ([]*Scenario, error) {
	entries, err := catalogFS.ReadDir("catalog")
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range entries {
		s, err := loadBuiltin(strings.TrimSuffix(e.Name(), ".yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Builtin returns the YAML text of a built-in scenario.
func Builtin(name string) ([]byte, bool) {
	b, err := catalogFS.ReadFile(path.Join("catalog", name+".yaml"))
	return b, err == nil
}

func loadBuiltin(name string) (*Scenario, error) {
	b, ok := Builtin(name)
	if !ok {
		return nil, fmt.Errorf("no built-in scenario %q", name)
	}
	return Parse("catalog/"+name+".yaml", b)
}

// ErrNotFound says an argument is neither a file nor a built-in name.
var ErrNotFound = errors.New("not found")

// Load reads a scenario from a file path, or a built-in by name.
func Load(arg string) (*Scenario, error) {
	if b, err := os.ReadFile(arg); err == nil {
		return Parse(arg, b)
	} else if strings.ContainsAny(arg, "/.") {
		return nil, &Error{File: arg, Allowed: "cannot be read: " + err.Error()}
	}
	if _, ok := Builtin(arg); ok {
		return loadBuiltin(arg)
	}
	var names []string
	all, _ := Catalog()
	for _, s := range all {
		names = append(names, s.Name)
	}
	return nil, &Error{File: arg, Allowed: "is neither a file nor a built-in scenario; built-ins: " + strings.Join(names, ", ")}
}
