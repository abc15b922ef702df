// Package permanent is the one convention for a failure that no retry can
// change (a malformed message, a refusal Temporal or the database will
// repeat): the code that retries, the bridge's command consumer and the
// projector's router, dead-letters the message instead of retrying it.
package permanent

import "errors"

// Error marks Err as permanent; its text starts with "permanent: ", which
// dead-letter reasons keep.
type Error struct{ Err error }

func (e *Error) Error() string { return "permanent: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap marks err as permanent; nil stays nil.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// Is reports whether err, or an error it wraps, is permanent.
func Is(err error) bool {
	var p *Error
	return errors.As(err, &p)
}
