package sweep

import _ "embed"

//go:embed default.yaml
var defaultSpec []byte

// DefaultSource is the text of the default sweep spec.
func DefaultSource() []byte { return defaultSpec }
