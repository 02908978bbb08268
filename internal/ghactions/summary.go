package ghactions

import (
	"errors"
	"fmt"
	"os"
)

// MaxSummaryBytes is the most the runner accepts from one step's GITHUB_STEP_SUMMARY; it drops larger summaries.
const MaxSummaryBytes = 1 << 20

// AppendSummary appends markdown to the step summary file at path (GITHUB_STEP_SUMMARY). It refuses to make the
// file larger than the runner accepts rather than have the whole summary dropped.
func AppendSummary(path, markdown string) error {
	if path == "" {
		return errors.New("GITHUB_STEP_SUMMARY is not set: run waxseal's action from a GitHub Actions step")
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	if size+int64(len(markdown)) > MaxSummaryBytes {
		return fmt.Errorf("writing step summary: %d bytes would exceed the runner's %d-byte limit; sign fewer tarballs per step", size+int64(len(markdown)), MaxSummaryBytes)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening step summary %q: %w", path, err)
	}
	if _, err := f.WriteString(markdown); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("writing step summary %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing step summary %q: %w", path, err)
	}
	return nil
}
