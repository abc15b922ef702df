package ports

import (
	"bufio"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
)

// EventFeed gives the board the order events published from now on; the
// returned function ends the subscription, and the channel closes when the
// subscriber fell too far behind.
type EventFeed interface {
	Subscribe(ctx context.Context) (<-chan contracts.Event, func(), error)
}

//go:embed web/board.html web/board.js web/board.css
var boardAssets embed.FS

// boardView is one event as the board shows it: the order's summary (as in
// GET /orders) plus the event's seq, type and time.
type boardView struct {
	app.OrderSummary
	Seq  int64     `json:"seq"`
	Type string    `json:"type"`
	Time time.Time `json:"time"`
}

func viewOf(e contracts.Event) boardView {
	o := e.Order
	v := boardView{Seq: e.Seq, Type: string(e.Type), Time: e.Time, OrderSummary: app.OrderSummary{
		OrderID: e.OrderID, State: o.State, Step: o.Step, Terminal: o.State.Terminal(),
		PaymentID: o.Payment.PaymentID, PaymentStatus: o.Payment.Status, AmountCents: o.Payment.AmountCents,
		AcceptedAt: o.AcceptedAt, UpdatedAt: o.UpdatedAt, CompletedAt: o.CompletedAt}}
	if o.Shipping != nil {
		v.TrackingNumber = o.Shipping.TrackingNumber
	}
	return v
}

// mountBoardPage serves the board's page and assets, embedded in the
// binary, under the same self-only CSP as the docs. They hold no order data;
// the data comes from the read routes and /board/events.
func mountBoardPage(srv *fiber.App) {
	srv.Get("/board", embeddedPage(boardAssets, "web/board.html", fiber.MIMETextHTMLCharsetUTF8, "no-cache"))
	srv.Get("/board/board.js", embeddedPage(boardAssets, "web/board.js", "text/javascript; charset=utf-8", "no-cache"))
	srv.Get("/board/board.css", embeddedPage(boardAssets, "web/board.css", "text/css; charset=utf-8", "no-cache"))
}

// boardStreamLife bounds one event stream below the server's write timeout
// (which covers a whole streamed response); the page reconnects and
// reloads its state when a stream ends.
func (h *handlers) boardStreamLife() time.Duration {
	if h.opts.WriteTimeout > 10*time.Second {
		return h.opts.WriteTimeout - 5*time.Second
	}
	if h.opts.WriteTimeout > 0 {
		return h.opts.WriteTimeout / 2
	}
	return 5 * time.Minute
}

// boardEvents streams order events as server-sent events: first `ready`,
// then one `order` event per order event, with a comment every 15 s so
// proxies and the page see a live connection. It ends after
// boardStreamLife, when the server shuts down or when the client falls
// behind (`resync`); the page then reloads its state and reconnects.
func (h *handlers) boardEvents(c *fiber.Ctx) error {
	if h.opts.Feed == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "the live event feed is not configured")
	}
	ctx, cancelSub := context.WithTimeout(c.UserContext(), h.opts.RequestTimeout)
	events, unsubscribe, err := h.opts.Feed.Subscribe(ctx)
	cancelSub()
	if err != nil {
		return fmt.Errorf("%w: %w", app.ErrUnavailable, err)
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	shutdown := c.Context().Done()
	life := h.boardStreamLife()
	// With authentication on, a client sees only its own orders' events.
	viewer := owner(c)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer unsubscribe()
		send := func(event, data string) bool {
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
				return false
			}
			return w.Flush() == nil
		}
		if _, err := w.WriteString("retry: 1000\n"); err != nil || !send("ready", "{}") {
			return
		}
		heartbeat := time.NewTicker(15 * time.Second)
		defer heartbeat.Stop()
		end := time.NewTimer(life)
		defer end.Stop()
		for {
			select {
			case e, ok := <-events:
				if !ok {
					send("resync", "{}")
					return
				}
				if viewer != "" && e.Order.Owner != viewer {
					continue
				}
				body, err := json.Marshal(viewOf(e))
				if err != nil || !send("order", string(body)) {
					return
				}
			case <-heartbeat.C:
				if _, err := w.WriteString(": keep-alive\n\n"); err != nil || w.Flush() != nil {
					return
				}
			case <-end.C:
				send("bye", "{}")
				return
			case <-shutdown:
				return
			}
		}
	})
	return nil
}
