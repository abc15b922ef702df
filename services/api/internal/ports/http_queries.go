package ports

import (
	"context"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/domain"
)

// DefaultListLimit is the page size when the client gives none.
const DefaultListLimit = 50

func (h *handlers) status(c *fiber.Ctx) error { return readOrder(h, c, h.queries.Status) }

func (h *handlers) order(c *fiber.Ctx) error { return readOrder(h, c, h.queries.Order) }

// eventsBody is the audit log of one order.
type eventsBody struct {
	OrderID string            `json:"order_id"`
	Events  []app.EventRecord `json:"events"`
}

func (h *handlers) events(c *fiber.Ctx) error {
	return readOrder(h, c, func(ctx context.Context, id, owner string) (eventsBody, error) {
		evs, err := h.queries.Events(ctx, id, owner)
		return eventsBody{OrderID: id, Events: evs}, err
	})
}

// readOrder answers a read of the route's order as the client sees it
// (owner), within the request timeout.
func readOrder[T any](h *handlers, c *fiber.Ctx, read func(ctx context.Context, orderID, owner string) (T, error)) error {
	ctx, cancel := h.withTimeout(c, 0)
	defer cancel()
	v, err := read(ctx, c.Params("order_id"), owner(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// listBody is one page of orders; NextCursor is absent on the last page.
type listBody struct {
	Orders     []app.OrderSummary `json:"orders"`
	Limit      int                `json:"limit"`
	NextCursor string             `json:"next_cursor,omitempty"`
	NextURL    string             `json:"next_url,omitempty"`
}

func (h *handlers) list(c *fiber.Ctx) error {
	f, err := listFilter(c.Query("status"), c.Query("limit"), c.Query("cursor"))
	if err != nil {
		return err
	}
	f.Owner = owner(c)
	ctx, cancel := h.withTimeout(c, 0)
	defer cancel()
	page, err := h.queries.List(ctx, f)
	if err != nil {
		return err
	}
	body := listBody{Orders: page.Orders, Limit: f.Limit}
	if body.Orders == nil {
		body.Orders = []app.OrderSummary{}
	}
	if page.Next != nil {
		body.NextCursor = encodeCursor(*page.Next)
		q := url.Values{"limit": {strconv.Itoa(f.Limit)}, "cursor": {body.NextCursor}}
		if f.State != "" {
			q.Set("status", string(f.State))
		}
		body.NextURL = "/orders?" + q.Encode()
	}
	return c.JSON(body)
}

// listFilter parses the list's query parameters; the application layer
// checks their ranges.
func listFilter(status, limit, cursor string) (app.ListFilter, error) {
	f := app.ListFilter{State: domain.OrderState(status), Limit: DefaultListLimit}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil {
			return f, &domain.FieldError{Field: "limit", Reason: "must be an integer"}
		}
		f.Limit = n
	}
	if cursor != "" {
		cur, err := decodeCursor(cursor)
		if err != nil {
			return f, err
		}
		f.After = cur
	}
	return f, nil
}
