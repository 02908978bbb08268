package action

import "errors"

// joinErrs joins errors one per line, so every bad input is reported in one run.
func joinErrs(errs []error) error { return errors.Join(errs...) }
