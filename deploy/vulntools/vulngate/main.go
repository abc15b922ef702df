// Command vulngate reads `govulncheck -format json` on stdin and fails when
// a vulnerability is reachable from the code (a finding whose trace names
// a function) and is not listed in the accepted file, so `make test` stops
// on a new reachable vulnerability while known, explained ones are shown
// but do not block.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	acceptedFile := flag.String("accepted", "", "file of accepted vulnerability IDs, one per line, # comments")
	flag.Parse()
	if err := run(os.Stdin, *acceptedFile, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, acceptedFile string, out io.Writer) error {
	accepted := map[string]bool{}
	if acceptedFile != "" {
		f, err := os.Open(acceptedFile)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if id := strings.TrimSpace(line); id != "" {
				accepted[id] = true
			}
		}
	}
	summaries := map[string]string{}
	reachable := map[string]string{} // ID -> "module (fixed in X)"
	dec := json.NewDecoder(in)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read govulncheck output: %w", err)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if f := m.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			reachable[f.OSV] = fmt.Sprintf("%s (fixed in %s)", f.Trace[0].Module, f.FixedVersion)
		}
	}
	ids := make([]string, 0, len(reachable))
	for id := range reachable {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var blocking []string
	for _, id := range ids {
		state := "ACCEPTED"
		if !accepted[id] {
			state = "NEW"
			blocking = append(blocking, id)
		}
		fmt.Fprintf(out, "%-8s %s %s: %s\n", state, id, reachable[id], summaries[id])
	}
	fmt.Fprintf(out, "%d reachable vulnerabilities, %d accepted, %d new\n", len(ids), len(ids)-len(blocking), len(blocking))
	if len(blocking) > 0 {
		return fmt.Errorf("reachable vulnerabilities not accepted: %s", strings.Join(blocking, ", "))
	}
	return nil
}
