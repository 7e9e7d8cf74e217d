// Package gostore saves a small state file so that a failed write never destroys the last good
// state: the new bytes go to a temporary file that replaces the old one only once complete.
package gostore

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Writer is where Save writes bytes; tests wrap it to inject faults (short writes, ENOSPC).
type Writer func(f *os.File, data []byte) (int, error)

// PlainWrite writes with the file's own Write.
func PlainWrite(f *os.File, data []byte) (int, error) { return f.Write(data) }

// Save replaces path's content with data through write. With GOSTORE_BROKEN=1 (or the break
// save-in-place in FAULTLINE_BREAK, set by faultline verify) it writes in place, the bug this
// example's matrix must catch: a failed write leaves a torn file.
func Save(path string, data []byte, write Writer) error {
	if os.Getenv("GOSTORE_BROKEN") == "1" || broken("save-in-place") {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		return writeAll(f, data, write)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".save-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeAll(tmp, data, write); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// broken reports whether faultline verify switched this protection off (FAULTLINE_BREAK holds names).
func broken(name string) bool {
	for _, b := range strings.Split(os.Getenv("FAULTLINE_BREAK"), ",") {
		if strings.TrimSpace(b) == name {
			return true
		}
	}
	return false
}

func writeAll(f *os.File, data []byte, write Writer) error {
	n, err := write(f, data)
	if err != nil {
		return err
	}
	if n < len(data) {
		return io.ErrShortWrite
	}
	return nil
}
