package ports

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/orderflow/orderflow/shared/contracts"
)

// acceptedBody answers a POST: the command is stored; Result is present
// when the client asked to wait and the bridge settled it in time.
type acceptedBody struct {
	CommandID string                   `json:"command_id"`
	OrderID   string                   `json:"order_id"`
	Kind      contracts.CommandKind    `json:"kind"`
	Duplicate bool                     `json:"duplicate"`
	StatusURL string                   `json:"status_url"`
	Result    *contracts.CommandResult `json:"result,omitempty"`
}

// signalKinds maps the URL's signal name to the command kind.
var signalKinds = map[string]contracts.CommandKind{
	"cancel":         contracts.CommandCancel,
	"update-address": contracts.CommandUpdateAddress,
	"approve":        contracts.CommandApprove,
}

func (h *handlers) start(c *fiber.Ctx) error {
	return h.submit(c, contracts.CommandStart)
}

// signalAs submits a signal of a fixed kind (routes that carry their own
// scope).
func (h *handlers) signalAs(kind contracts.CommandKind) fiber.Handler {
	return func(c *fiber.Ctx) error { return h.submit(c, kind) }
}

func (h *handlers) signal(c *fiber.Ctx) error {
	kind, ok := signalKinds[c.Params("signal")]
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "unknown signal "+strconv.Quote(c.Params("signal"))+
			"; use cancel, update-address or approve")
	}
	return h.submit(c, kind)
}

// submit validates everything before publishing, so bad input never
// reaches the broker.
func (h *handlers) submit(c *fiber.Ctx, kind contracts.CommandKind) error {
	orderID := c.Params("order_id")
	if err := contracts.ValidateOrderID(orderID); err != nil {
		return err
	}
	commandID := uuid.NewString()
	if key := c.Get(HeaderIdempotencyKey); key != "" {
		if err := validateIdempotencyKey(key); err != nil {
			return err
		}
		commandID = key
	}
	wait, waitAsked := preferWait(c.GetReqHeaders()["Prefer"], h.opts.WaitMax)

	var (
		cmd contracts.Command
		err error
	)
	if kind == contracts.CommandStart {
		cmd, err = buildStart(orderID, commandID, c.Get(fiber.HeaderContentType), c.Body(), h.now().UTC())
	} else {
		cmd, err = buildSignal(kind, orderID, commandID, c.Get(fiber.HeaderContentType), c.Body(), h.now().UTC())
	}
	if err != nil {
		return err
	}
	cmd.Owner = owner(c)

	ctx, cancel := h.withTimeout(c, wait)
	defer cancel()
	sub, err := h.commands.Submit(ctx, cmd, wait)
	if waitAsked {
		c.Set("Preference-Applied", "wait="+strconv.Itoa(int(wait.Seconds())))
		c.Vary("Prefer")
	}
	if err != nil {
		return err
	}
	statusURL := "/orders/" + orderID + "/status"
	c.Location(statusURL)
	status := fiber.StatusAccepted
	if sub.Result != nil {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(acceptedBody{
		CommandID: cmd.CommandID, OrderID: orderID, Kind: kind, Duplicate: sub.Duplicate,
		StatusURL: statusURL, Result: sub.Result,
	})
}
