package ports

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// ContentTypeProblem is the media type of every error body (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// Problem is an RFC 9457 problem detail. Field and Errors name the input
// that was wrong so a client can point at it.
type Problem struct {
	Type      string                   `json:"type"`
	Title     string                   `json:"title"`
	Status    int                      `json:"status"`
	Detail    string                   `json:"detail,omitempty"`
	Instance  string                   `json:"instance,omitempty"`
	Field     string                   `json:"field,omitempty"`
	Errors    []FieldProblem           `json:"errors,omitempty"`
	RequestID string                   `json:"request_id,omitempty"`
	Result    *contracts.CommandResult `json:"result,omitempty"`
	Checks    map[string]string        `json:"checks,omitempty"`
}

// FieldProblem is one wrong input field.
type FieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Problem type URIs; they are identifiers, documented in the OpenAPI file.
const (
	typeValidation  = "urn:orderflow:problem:validation"
	typeMalformed   = "urn:orderflow:problem:malformed-request"
	typeMediaType   = "urn:orderflow:problem:unsupported-media-type"
	typeTooLarge    = "urn:orderflow:problem:payload-too-large"
	typeNotFound    = "urn:orderflow:problem:not-found"
	typeMethod      = "urn:orderflow:problem:method-not-allowed"
	typeRejected    = "urn:orderflow:problem:command-rejected"
	typeRateLimited = "urn:orderflow:problem:rate-limited"
	typeUnavailable = "urn:orderflow:problem:unavailable"
	typeTimeout     = "urn:orderflow:problem:timeout"
	typeInternal    = "urn:orderflow:problem:internal"
	typeNotReady    = "urn:orderflow:problem:not-ready"
	typeHTTPGeneric = "about:blank"
)

// requestError is a problem found while reading the request itself
// (syntax, media type, headers) before any application code ran.
type requestError struct {
	status int
	typ    string
	title  string
	field  string
	detail string
}

func (e *requestError) Error() string { return e.title + ": " + e.detail }

func malformed(field, detail string) error {
	return &requestError{status: fiber.StatusBadRequest, typ: typeMalformed, title: "Malformed request", field: field, detail: detail}
}

// notReadyError carries failed readiness checks.
type notReadyError struct{ checks map[string]string }

func (e *notReadyError) Error() string { return "not ready" }

// problemFor is the one place where errors become HTTP statuses.
func problemFor(err error) Problem {
	var (
		fe  *domain.FieldError
		re  *requestError
		rej *app.RejectedError
		nr  *notReadyError
		fbe *fiber.Error
		ae  *authError
	)
	switch {
	case errors.As(err, &ae):
		typ, title := typeUnauthenticated, "Unauthenticated"
		if ae.status == fiber.StatusForbidden {
			typ, title = typeForbidden, "Forbidden"
		}
		return Problem{Type: typ, Title: title, Status: ae.status, Detail: ae.detail}
	case errors.As(err, &re):
		p := Problem{Type: re.typ, Title: re.title, Status: re.status, Detail: re.detail, Field: re.field}
		if re.field != "" {
			p.Errors = []FieldProblem{{Field: re.field, Detail: re.detail}}
		}
		return p
	case errors.As(err, &fe):
		return Problem{Type: typeValidation, Title: "Invalid request", Status: fiber.StatusBadRequest,
			Detail: fe.Error(), Field: fe.Field, Errors: []FieldProblem{{Field: fe.Field, Detail: fe.Reason}}}
	case errors.As(err, &rej):
		r := rej.Result
		return Problem{Type: typeRejected, Title: "Command rejected", Status: fiber.StatusConflict,
			Detail: r.Reason, Result: &r}
	case errors.Is(err, app.ErrNotFound):
		return Problem{Type: typeNotFound, Title: "Order not found", Status: fiber.StatusNotFound, Detail: err.Error()}
	case errors.As(err, &nr):
		return Problem{Type: typeNotReady, Title: "Not ready", Status: fiber.StatusServiceUnavailable,
			Detail: "a dependency is not available", Checks: nr.checks}
	case errors.Is(err, app.ErrUnavailable):
		return Problem{Type: typeUnavailable, Title: "Service unavailable", Status: fiber.StatusServiceUnavailable,
			Detail: "a dependency did not answer; retry the request (an Idempotency-Key makes that safe)"}
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Type: typeTimeout, Title: "Timed out", Status: fiber.StatusGatewayTimeout,
			Detail: "the request did not finish in time; retry it (an Idempotency-Key makes that safe)"}
	case errors.As(err, &fbe):
		return fiberProblem(fbe)
	default:
		return Problem{Type: typeInternal, Title: "Internal error", Status: fiber.StatusInternalServerError,
			Detail: "unexpected error; it has been logged"}
	}
}

func fiberProblem(e *fiber.Error) Problem {
	p := Problem{Type: typeHTTPGeneric, Title: statusTitle(e.Code), Status: e.Code, Detail: e.Message}
	switch e.Code {
	case fiber.StatusNotFound:
		p.Type, p.Title = typeNotFound, "Not found"
	case fiber.StatusMethodNotAllowed:
		p.Type = typeMethod
	case fiber.StatusRequestEntityTooLarge:
		p.Type, p.Field = typeTooLarge, "body"
		p.Detail = "the request body is larger than the server accepts (HTTP_BODY_LIMIT)"
		p.Errors = []FieldProblem{{Field: "body", Detail: p.Detail}}
	case fiber.StatusTooManyRequests:
		p.Type = typeRateLimited
	}
	return p
}

func statusTitle(code int) string {
	if t := utils.StatusMessage(code); t != "" {
		return t
	}
	return "HTTP " + strconv.Itoa(code)
}

// errorHandler renders every error as problem+json; unexpected ones are
// logged with the request so the generic detail can be traced.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := problemFor(err)
		p.Instance = c.Path()
		p.RequestID = requestID(c)
		if p.Status >= fiber.StatusInternalServerError {
			log.ErrorContext(c.UserContext(), "request failed", "method", c.Method(), "path", c.Path(), "status", p.Status,
				"request_id", p.RequestID, "error", err)
		}
		var ae *authError
		switch {
		case p.Status == fiber.StatusServiceUnavailable:
			c.Set(fiber.HeaderRetryAfter, "1")
		case errors.As(err, &ae):
			c.Set(fiber.HeaderWWWAuthenticate, ae.challenge)
		}
		return c.Status(p.Status).JSON(p, ContentTypeProblem)
	}
}
