package ports

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cors"
)

// mountCodec serves the Temporal UI's remote codec at POST /codec/decode,
// behind the codec:decode scope. Only decoding is offered: an encode
// endpoint would let any holder of the scope seal data under the key.
// The UI calls it from the browser, so its origin needs CORS; with
// "Include cross-origin credentials" and "Pass the user access token" on,
// it sends the operator's bearer token.
func mountCodec(srv *fiber.App, opts Options, require fiber.Handler) {
	handlers := []fiber.Handler{}
	if len(opts.CodecCORSOrigins) > 0 {
		handlers = append(handlers, cors.New(cors.Config{
			AllowOrigins:     strings.Join(opts.CodecCORSOrigins, ","),
			AllowMethods:     "POST,OPTIONS",
			AllowHeaders:     "Authorization,Content-Type,X-Namespace",
			AllowCredentials: true,
		}))
	}
	handlers = append(handlers, require, adaptor.HTTPHandler(opts.Codec))
	srv.Post("/codec/decode", handlers...)
	// The browser's preflight carries no credentials.
	if len(opts.CodecCORSOrigins) > 0 {
		srv.Options("/codec/decode", handlers[0])
	}
}
