package gostore

import (
	"encoding/json"
	"os"
	"testing"
)

// recordFault appends one line of faultline's evidence protocol to FAULTLINE_EVIDENCE_FILE: the
// fault acted on the system under test, in the test named as `go test -json` reports it.
func recordFault(t *testing.T, kind, name, detail string, attrs map[string]any) {
	t.Helper()
	file := os.Getenv("FAULTLINE_EVIDENCE_FILE")
	if file == "" {
		return // run by plain `go test`: nobody collects evidence
	}
	line, err := json.Marshal(map[string]any{"test": t.Name(), "kind": kind, "name": name, "detail": detail, "attributes": attrs})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
}
