package stackkit

import (
	"slices"
	"strings"
	"testing"
)

// TestSettingsFaults: FAULTS=off gives the services zero rates, on the
// configured ones, and anything else is refused naming the variable.
func TestSettingsFaults(t *testing.T) {
	s := Settings{Faults: "on", FailRate: "0.1", HangRate: "0.2"}
	if got, want := s.FaultEnv(), []string{"FAULT_FAIL_RATE=0.1", "FAULT_HANG_RATE=0.2"}; !slices.Equal(got, want) {
		t.Errorf("on: %v, want %v", got, want)
	}
	s.Faults = "off"
	if got, want := s.FaultEnv(), []string{"FAULT_FAIL_RATE=0", "FAULT_HANG_RATE=0"}; !slices.Equal(got, want) {
		t.Errorf("off: %v, want %v", got, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("off: %v", err)
	}
	s.Faults = "maybe"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "FAULTS") {
		t.Errorf("Validate() = %v, want an error naming FAULTS", err)
	}
	s.Faults, s.RestartDelay = "on", -1
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "RESTART_DELAY") {
		t.Errorf("Validate() = %v, want an error naming RESTART_DELAY", err)
	}
}

func TestWithoutOTEL(t *testing.T) {
	got := WithoutOTEL([]string{"PATH=/bin", "OTEL_SERVICE_NAME=x", "A=OTEL_"})
	if want := []string{"PATH=/bin", "A=OTEL_"}; !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}
