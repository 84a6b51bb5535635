package app_test

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"resolutioncenter/observe"
	"resolutioncenter/webhook"
)

// readmeNotMetrics are the rc_ names README mentions that are no metric: the OIDC
// companies claim's default, the PostgreSQL test databases' prefix and the revocation
// NOTIFY channel.
var readmeNotMetrics = []string{"rc_companies", "rc_test_", "rc_token_revocations"}

// TestReadmeMetricNames: every rc_ metric the server registers (observe's and webhook's
// collectors, as app registers them) is named in README with its labels
// ("`rc_x{a,b}`"), and every rc_ name README mentions is one of them (or a name listed
// in readmeNotMetrics), so that neither a new metric nor a renamed one goes unnoticed.
func TestReadmeMetricNames(t *testing.T) {
	text, _ := mustParseReadme(t)
	m := observe.NewMetrics()
	m.WatchSubscriptions(func() (int, int) { return 0, 0 })
	m.WatchListen(func() bool { return true }, func() int64 { return 0 })
	m.SetInfo("sqlite")
	wm := webhook.NewMetrics(m.Registry)

	// name -> its labels, sorted: the gathered families (with their constant labels),
	// and the collectors of both structs described (a vector without children is not
	// gathered).
	metrics := map[string][]string{}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		var labels []string
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName())
			}
		}
		metrics[f.GetName()] = sortedCopy(labels)
	}
	descRE := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	for _, s := range []any{m, wm} {
		v := reflect.ValueOf(s).Elem()
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			c, ok := v.Field(i).Interface().(prometheus.Collector)
			if !ok {
				continue
			}
			ch := make(chan *prometheus.Desc, 10)
			go func() { c.Describe(ch); close(ch) }()
			for d := range ch {
				g := descRE.FindStringSubmatch(d.String())
				if g == nil {
					t.Fatalf("cannot read %s", d)
				}
				var labels []string
				if g[2] != "" {
					labels = strings.Split(g[2], ",")
				}
				metrics[g[1]] = sortedCopy(append(labels, metrics[g[1]]...))
			}
		}
	}
	var names []string
	for name := range metrics {
		if strings.HasPrefix(name, "rc_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) < 20 {
		t.Fatalf("found only %d rc_ metrics: %v", len(names), names)
	}

	for _, name := range names {
		want := metrics[name]
		if len(want) == 0 {
			if !strings.Contains(text, "`"+name+"`") {
				t.Errorf("README does not name the metric %s (as `%s`)", name, name)
			}
			continue
		}
		uses := regexp.MustCompile("`"+name+`\{([a-z_,]+)\}`+"`").FindAllStringSubmatch(text, -1)
		if len(uses) == 0 {
			t.Errorf("README does not name the metric %s with its labels (as `%s{%s}`)", name, name, strings.Join(want, ","))
		}
		for _, u := range uses {
			if got := sortedCopy(strings.Split(u[1], ",")); !slices.Equal(got, want) {
				t.Errorf("README gives %s the labels {%s}; the server's are {%s}", name, u[1], strings.Join(want, ","))
			}
		}
	}

	for _, tok := range sortedCopy(regexp.MustCompile(`\brc_[a-z_]+`).FindAllString(text, -1)) {
		base := tok
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if _, ok := metrics[base]; !ok && !slices.Contains(readmeNotMetrics, tok) {
			t.Errorf("README names %s, which is no metric the server registers", tok)
		}
	}
}
