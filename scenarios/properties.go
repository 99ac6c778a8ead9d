package scenarios

import (
	"fmt"
	"strings"
)

// ApplyProperties applies a Kafka properties file (server.properties,
// producer.properties, consumer.properties) to the scenario: every key
// acksim models is applied as --set would apply it, and a bad value is an
// error naming the file and line. Real files hold hundreds of keys acksim
// does not model (listeners, log.dirs, thread counts): each is returned as
// a warning with its file and line, never dropped silently.
//
// The format is java.util.Properties': key=value, key:value or key value;
// # and ! start comments; a line ending in \ continues on the next.
func (s *Scenario) ApplyProperties(file string, data []byte) (warnings []string) {
	settings, warnings := ParseProperties(file, data)
	s.Settings = append(s.Settings, settings...)
	s.warnings = append(s.warnings, warnings...)
	return warnings
}

// PropertiesSets returns a properties file's modelled keys as --set pairs
// (for a sweep's spec, whose set list is saved with its results), and the
// keys it ignores as warnings.
func PropertiesSets(file string, data []byte) (sets, warnings []string) {
	settings, warnings := ParseProperties(file, data)
	for _, st := range settings {
		sets = append(sets, st.Key+"="+st.Value)
	}
	return sets, warnings
}

// ParseProperties reads a properties file into settings (each naming its
// file and line) and warnings for the keys acksim does not model.
func ParseProperties(file string, data []byte) (settings []Setting, warnings []string) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		for strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimLeft(lines[i], " \t\f")
		}
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		cut := strings.IndexAny(line, "=: \t")
		key, value := line, ""
		if cut >= 0 {
			key = line[:cut]
			value = strings.TrimLeft(line[cut:], " \t")
			if value != "" && (value[0] == '=' || value[0] == ':') {
				value = strings.TrimLeft(value[1:], " \t")
			}
		}
		value = strings.TrimRight(value, " \t")
		sc, ok := settingScope(key)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s: not modelled by acksim; ignored", file, lineNo, key))
			continue
		}
		settings = append(settings, Setting{Scope: sc, Owner: -1, Key: key, Value: value, Line: lineNo, Field: key, File: file})
	}
	return settings, warnings
}

// settingScope finds the scope of a config name, in the order --set
// searches (broker, producer, consumer, OS, disk, network).
func settingScope(key string) (scope, bool) {
	for _, sc := range []scope{scopeBroker, scopeProducer, scopeConsumer, scopeOS, scopeDisk, scopeNet} {
		if findSetting(sc, key) != nil {
			return sc, true
		}
	}
	return 0, false
}
