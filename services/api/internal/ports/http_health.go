package ports

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz says the process serves HTTP; it checks nothing else so an
// orchestrator does not restart the API when a dependency is down.
func (h *handlers) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz says whether a POST can be stored and a read answered now.
func (h *handlers) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := make(map[string]string, len(h.checks))
	ok := true
	for _, ch := range h.checks {
		if err := ch.Check(ctx); err != nil {
			checks[ch.Name] = err.Error()
			ok = false
			continue
		}
		checks[ch.Name] = "ok"
	}
	if !ok {
		return &notReadyError{checks: checks}
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}
