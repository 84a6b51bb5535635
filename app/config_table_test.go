package app_test

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"resolutioncenter/app"
)

// readmeConfigRow is one setting of README's Configuration table.
type readmeConfigRow struct {
	flag, def, meaning string
}

// readmeConfigTable returns README's Configuration table by environment variable; a
// row naming several settings ("A / B") gives each its own flag and default.
func readmeConfigTable(t *testing.T) map[string]readmeConfigRow {
	t.Helper()
	text, _ := mustParseReadme(t)
	config := readmeSection(t, text, "Configuration")
	rows := map[string]readmeConfigRow{}
	for _, m := range regexp.MustCompile("(?m)^\\| ([^|]*) \\| ([^|]*) \\| ([^|]*) \\| (.*) \\|$").FindAllStringSubmatch(config, -1) {
		envs := backticked(m[1])
		flags := backticked(m[2])
		defs := strings.Split(m[3], " / ")
		for i, e := range envs {
			r := readmeConfigRow{meaning: m[4]}
			if i < len(flags) {
				r.flag = flags[i]
			}
			if len(defs) == len(envs) {
				r.def = strings.TrimSpace(defs[i])
			} else {
				r.def = strings.TrimSpace(m[3])
			}
			rows[e] = r
		}
	}
	return rows
}

// serverDefaults returns each setting's default as -help prints it: env -> default
// ("" for none).
func serverDefaults(t *testing.T) map[string]string {
	t.Helper()
	var out strings.Builder
	if err := app.Run(context.Background(), []string{"-help"}, func(string) string { return "" }, &out); err != app.ErrHelp {
		t.Fatalf("-help: %v", err)
	}
	defs := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  -\S+  \(env (\S+), default (.*)\)$`).FindAllStringSubmatch(out.String(), -1) {
		d := m[2]
		if d == `""` {
			d = ""
		}
		defs[m[1]] = d
	}
	return defs
}

// TestReadmeConfigDefaults: the Configuration table gives every setting the default the
// server has (an empty one as *(empty)* or another parenthesised word), and a setting
// whose row says what `0` does accepts 0.
func TestReadmeConfigDefaults(t *testing.T) {
	rows := readmeConfigTable(t)
	for env, def := range serverDefaults(t) {
		row, ok := rows[env]
		if !ok {
			t.Errorf("the Configuration table has no row for %s", env)
			continue
		}
		switch {
		case env == "DEV_MODE":
			// Computed: true with the embedded database, false otherwise.
			if !strings.Contains(row.def, "`true` with the embedded database") {
				t.Errorf("README gives DEV_MODE the default %q", row.def)
			}
		case def == "":
			if !regexp.MustCompile(`^\*\([a-z ]+\)\*$`).MatchString(row.def) {
				t.Errorf("README gives %s the default %s; the server has none", env, row.def)
			}
		default:
			if got := backticked(row.def); len(got) != 1 || got[0] != def {
				t.Errorf("README gives %s the default %s; the server's is %s", env, row.def, def)
			}
		}
		if strings.Contains(row.meaning, "`0`") {
			getenv := func(k string) string {
				if k == env {
					return "0"
				}
				return ""
			}
			if _, err := app.ParseConfig("migrate", nil, getenv, io.Discard); err != nil {
				t.Errorf("README says what %s=0 does, and the server refuses it: %v", env, err)
			}
		}
	}
}

// TestConfigRefusesNonsense: values that parse but mean nothing are refused at start
// with the setting's name, not taken: a NaN rate compared false with everything and
// turned the rate limit off (RATE_LIMIT=NaN) or let any burst through, and a day count
// past the range of a duration wrapped around to some other duration.
func TestConfigRefusesNonsense(t *testing.T) {
	for env, v := range map[string]string{
		"RATE_LIMIT":                 "NaN",
		"RATE_BURST":                 "NaN",
		"MUTATION_RATE_LIMIT":        "nan",
		"MUTATION_RATE_BURST":        "+Inf",
		"AUTH_FAILURE_RATE":          "NaN",
		"WEBHOOK_ENDPOINT_RATE":      "NaN",
		"RESPONSE_WINDOW":            "213504d",
		"WEBHOOK_DELIVERY_RETENTION": "9223372036854775807d",
	} {
		getenv := func(k string) string {
			if k == env {
				return v
			}
			return ""
		}
		_, err := app.ParseConfig("migrate", nil, getenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%s: %v, want it refused", env, v, err)
		}
	}
}
