package sweep

import _ "embed"

//go:embed default.yaml
var defaultSpec []byte
