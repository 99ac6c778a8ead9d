package risk

import _ "embed"

//go:embed default.yaml
var defaultSpec []byte

// DefaultSource is the text of the default risk spec.
func DefaultSource() []byte { return defaultSpec }

// Default is the default risk spec.
func Default() (*Spec, error) { return Parse("default risk spec", defaultSpec) }
