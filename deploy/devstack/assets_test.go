package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/orderflow/orderflow/shared/testenv"
)

// TestDashboardsAndRulesWellFormed checks the observability assets without
// Prometheus or Grafana (promtool is not available here and the
// prometheus/prometheus module is too heavy to pull in for its rule
// parser): the rules file has the shape Prometheus loads, every rule has a
// severity and a summary, durations parse, expressions have balanced
// brackets; the dashboard is JSON whose every panel queries something.
// Whether the queried metrics exist is checked against a live scrape in
// TestObservabilityEndToEnd.
func TestDashboardsAndRulesWellFormed(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "deploy", "observability")
	raw, err := os.ReadFile(filepath.Join(dir, "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	seen := map[string]bool{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			switch {
			case r.Alert == "" || seen[r.Alert]:
				t.Errorf("rule %q: missing or duplicate alert name", r.Alert)
			case strings.TrimSpace(r.Expr) == "":
				t.Errorf("%s: empty expr", r.Alert)
			case r.Labels["severity"] != "page" && r.Labels["severity"] != "ticket":
				t.Errorf("%s: severity %q, want page or ticket", r.Alert, r.Labels["severity"])
			case r.Annotations["summary"] == "":
				t.Errorf("%s: no summary annotation", r.Alert)
			}
			seen[r.Alert] = true
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if err := balanced(r.Expr); err != "" {
				t.Errorf("%s: %s in %q", r.Alert, err, r.Expr)
			}
		}
	}
	if n < 5 {
		t.Errorf("%d alert rules; want dead letters, lag, budget burn and stuck orders at least", n)
	}

	raw, err = os.ReadFile(filepath.Join(dir, "grafana", "orderflow.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("orderflow.json: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("dashboard without uid or panels")
	}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, q := range p.Targets {
			if err := balanced(q.Expr); q.Expr == "" || err != "" {
				t.Errorf("panel %q: bad query %q %s", p.Title, q.Expr, err)
			}
		}
	}
}

// balanced reports unbalanced (), [] or {} outside string literals.
func balanced(expr string) string {
	var stack []rune
	pair := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, c := range expr {
		switch {
		case c == '"':
			inString = !inString
		case inString:
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 || stack[len(stack)-1] != pair[c] {
				return "unbalanced " + string(c)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inString || len(stack) > 0 {
		return "unclosed bracket or string"
	}
	return ""
}
