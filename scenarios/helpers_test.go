package scenarios

import (
	"flag"
	"fmt"
	"strconv"
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
