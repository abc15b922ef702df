package ports

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// startBody is the body of POST /orders/{id}/start. Items is a pointer so
// an absent list (the seed's minimal request, defaults apply) differs from
// an explicit empty one (a client error).
type startBody struct {
	PaymentID    string          `json:"payment_id"`
	Items        *[]domain.Item  `json:"items"`
	Address      *domain.Address `json:"address"`
	ManualReview bool            `json:"manual_review"`
}

// cancelBody is the optional body of a cancel.
type cancelBody struct {
	Reason string `json:"reason"`
}

// approveBody is the optional body of an approve; it has no fields, so
// only an empty body or `{}` is accepted.
type approveBody struct{}

// decodeJSON reads one JSON object from body into dst, refusing unknown
// fields and trailing data. An empty body leaves dst untouched, so the
// seed's bodiless cancel works; a non-empty one must be declared as JSON.
func decodeJSON(contentType string, body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkJSONMediaType(contentType); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed("body", "body must hold exactly one JSON object")
	}
	return nil
}

func checkJSONMediaType(contentType string) error {
	unsupported := &requestError{status: fiber.StatusUnsupportedMediaType, typ: typeMediaType,
		title: "Unsupported media type", field: "Content-Type",
		detail: fmt.Sprintf("a request body must be application/json, got %q", contentType)}
	if contentType == "" {
		return unsupported
	}
	mt, _, err := mime.ParseMediaType(contentType)
	structured := strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
	if err != nil || (mt != fiber.MIMEApplicationJSON && !structured) {
		return unsupported
	}
	return nil
}

// jsonError names the offending field of a decoding error where the JSON
// decoder tells it.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return malformed("body", fmt.Sprintf("body is not valid JSON (at byte %d): %v", syn.Offset, syn))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("body", "body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return malformed("body", "body must be a JSON object")
		}
		return &domain.FieldError{Field: typ.Field, Reason: "must be a JSON " + jsonKind(typ.Type.Kind().String())}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, err := strconv.Unquote(name)
		if err != nil || field == "" {
			return &domain.FieldError{Field: "body", Reason: "has an unknown field " + name}
		}
		return &domain.FieldError{Field: field, Reason: "is not a known field"}
	}
	return malformed("body", "body is not valid JSON: "+err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	default:
		return "number"
	}
}

// buildStart turns a start request into the command the bridge consumes,
// filling the seed-compatible defaults for absent items and address.
func buildStart(orderID, commandID string, contentType string, body []byte, now time.Time) (contracts.Command, error) {
	var b startBody
	if err := decodeJSON(contentType, body, &b); err != nil {
		return contracts.Command{}, err
	}
	items := domain.DefaultItems()
	if b.Items != nil {
		items = *b.Items
		if err := domain.ValidateItems(items); err != nil {
			return contracts.Command{}, err
		}
	}
	addr := domain.DefaultAddress()
	if b.Address != nil {
		addr = *b.Address
	}
	cmd := contracts.Command{
		CommandID: commandID, OrderID: orderID, Kind: contracts.CommandStart, IssuedAt: now,
		PaymentID: strings.TrimSpace(b.PaymentID), Items: items, Address: &addr, ManualReview: b.ManualReview,
	}
	return cmd, cmd.Validate()
}

// buildSignal turns a cancel, update-address or approve request into its
// command.
func buildSignal(kind contracts.CommandKind, orderID, commandID, contentType string, body []byte, now time.Time) (contracts.Command, error) {
	cmd := contracts.Command{CommandID: commandID, OrderID: orderID, Kind: kind, IssuedAt: now}
	switch kind {
	case contracts.CommandCancel:
		var b cancelBody
		if err := decodeJSON(contentType, body, &b); err != nil {
			return cmd, err
		}
		cmd.Reason = strings.TrimSpace(b.Reason)
	case contracts.CommandUpdateAddress:
		if len(bytes.TrimSpace(body)) == 0 {
			return cmd, &domain.FieldError{Field: "body", Reason: "is required: street, city, state, zip_code"}
		}
		var a domain.Address
		if err := decodeJSON(contentType, body, &a); err != nil {
			return cmd, err
		}
		cmd.Address = &a
	case contracts.CommandApprove:
		if err := decodeJSON(contentType, body, &approveBody{}); err != nil {
			return cmd, err
		}
	default:
		return cmd, &domain.FieldError{Field: "kind", Reason: fmt.Sprintf("unknown command kind %q", kind)}
	}
	return cmd, cmd.Validate()
}

var idempotencyKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// HeaderIdempotencyKey names the header whose value becomes the command ID
// and so the JetStream message ID.
const HeaderIdempotencyKey = "Idempotency-Key"

// validateIdempotencyKey keeps keys to characters that are safe in a NATS
// header and a Temporal signal payload.
func validateIdempotencyKey(key string) error {
	if !idempotencyKeyPattern.MatchString(key) {
		return &domain.FieldError{Field: HeaderIdempotencyKey,
			Reason: "must be 1 to 128 characters: letters, digits, '.', '_', ':' or '-'"}
	}
	return nil
}

// preferWait reads `Prefer: wait=N` (RFC 7240). Preferences it does not
// understand, including a malformed wait, are ignored as the RFC asks; the
// wait is capped at max.
func preferWait(headers []string, max time.Duration) (time.Duration, bool) {
	for _, h := range headers {
		for _, pref := range strings.Split(h, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(strings.SplitN(pref, ";", 2)[0]), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
			if err != nil || n < 0 {
				continue
			}
			d := time.Duration(n) * time.Second
			if n > int(max/time.Second) {
				d = max
			}
			return d, true
		}
	}
	return 0, false
}

// cursorWire is the JSON inside an opaque list cursor.
type cursorWire struct {
	AcceptedAt time.Time `json:"t"`
	OrderID    string    `json:"o"`
}

func encodeCursor(c app.Cursor) string {
	b, _ := json.Marshal(cursorWire{AcceptedAt: c.AcceptedAt, OrderID: c.OrderID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*app.Cursor, error) {
	bad := &domain.FieldError{Field: "cursor", Reason: "is not a cursor returned by this API"}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var w cursorWire
	if err := json.Unmarshal(raw, &w); err != nil || w.AcceptedAt.IsZero() || contracts.ValidateOrderID(w.OrderID) != nil {
		return nil, bad
	}
	return &app.Cursor{AcceptedAt: w.AcceptedAt, OrderID: w.OrderID}, nil
}
