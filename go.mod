module acksim

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	github.com/spf13/cobra v1.10.1
	github.com/spf13/pflag v1.0.9
	go.yaml.in/yaml/v3 v3.0.4
	pgregory.net/rapid v1.2.0
)

require github.com/inconshreveable/mousetrap v1.1.0 // indirect
