package ports

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orderflow/orderflow/services/api/internal/app"
)

// Authenticator resolves a bearer token to a client; Enabled false means
// the API runs open.
type Authenticator interface {
	Enabled() bool
	Authenticate(ctx context.Context, token string) (app.Client, error)
}

// Problem types of authentication and authorization.
const (
	typeUnauthenticated = "urn:orderflow:problem:unauthenticated"
	typeForbidden       = "urn:orderflow:problem:forbidden"
)

// authRealm names the protection space in WWW-Authenticate.
const authRealm = `Bearer realm="orderflow"`

// authError is a refused credential or a missing scope; it renders as 401
// or 403 with the WWW-Authenticate challenge RFC 6750 describes.
type authError struct {
	status    int
	challenge string
	detail    string
}

func (e *authError) Error() string { return e.detail }

func unauthenticated(detail string, tokenGiven bool) error {
	ch := authRealm
	if tokenGiven {
		ch += `, error="invalid_token", error_description="the bearer token is not valid"`
	}
	return &authError{status: fiber.StatusUnauthorized, challenge: ch, detail: detail}
}

func forbidden(scope app.Scope) error {
	return &authError{
		status:    fiber.StatusForbidden,
		challenge: authRealm + `, error="insufficient_scope", scope="` + string(scope) + `"`,
		detail:    "this client's key does not grant the " + string(scope) + " scope this request needs",
	}
}

// Locals keys set by identify.
const (
	localClient  = "orderflow.client"
	localAuthErr = "orderflow.auth_err"
)

// identify authenticates the request if auth is on and keeps the outcome in
// the request's locals: the rate limiter keys on the client, and require
// decides per route. Refusing here would skip the rate limiter for
// credential guessing.
func identify(a Authenticator) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !a.Enabled() {
			return c.Next()
		}
		h := c.Get(fiber.HeaderAuthorization)
		scheme, token, found := strings.Cut(h, " ")
		switch {
		case h == "":
			c.Locals(localAuthErr, unauthenticated("this API needs an `Authorization: Bearer <key>` header", false))
		case !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "":
			c.Locals(localAuthErr, unauthenticated("the Authorization header must be `Bearer <key>`", true))
		default:
			cl, err := a.Authenticate(c.UserContext(), strings.TrimSpace(token))
			if err != nil {
				c.Locals(localAuthErr, unauthenticated("the bearer token is unknown, expired or badly signed", true))
			} else {
				c.Locals(localClient, cl)
			}
		}
		return c.Next()
	}
}

// rateKey is the rate limiter's key: the client when authenticated, so one
// client cannot starve another behind the same proxy, else the IP.
func rateKey(c *fiber.Ctx) string {
	if cl, ok := c.Locals(localClient).(app.Client); ok {
		return "client:" + cl.ID
	}
	return "ip:" + c.IP()
}

// require refuses the request unless it is authenticated with scope (auth
// on) and otherwise lets it through.
func (h *handlers) require(scope app.Scope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !h.auth.Enabled() {
			return c.Next()
		}
		if err, ok := c.Locals(localAuthErr).(error); ok {
			return err
		}
		cl, ok := c.Locals(localClient).(app.Client)
		if !ok {
			return unauthenticated("this API needs an `Authorization: Bearer <key>` header", false)
		}
		if scope != "" && !cl.Has(scope) {
			return forbidden(scope)
		}
		return c.Next()
	}
}

// owner is the owner the request acts for: the authenticated client, or ""
// when the API runs open (every order is then visible to every caller).
func owner(c *fiber.Ctx) string {
	if cl, ok := c.Locals(localClient).(app.Client); ok {
		return cl.ID
	}
	return ""
}
