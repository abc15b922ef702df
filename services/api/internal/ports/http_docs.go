package ports

import (
	"embed"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	swaggerFiles "github.com/swaggo/files/v2"
)

// OpenAPI is the API description served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

//go:embed web/index.html web/init.js
var web embed.FS

// docsCSP lets the docs page load only what this server serves, so a
// CDN reference would break the page instead of silently phoning out.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// mountDocs serves the OpenAPI file and Swagger UI from assets embedded in
// the binary (swaggo/files ships the swagger-ui dist).
func mountDocs(srv *fiber.App) {
	srv.Get("/openapi.yaml", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/yaml")
		return c.Send(OpenAPI)
	})
	srv.Get("/docs", embeddedPage(web, "web/index.html", fiber.MIMETextHTMLCharsetUTF8, ""))
	srv.Get("/docs/init.js", embeddedPage(web, "web/init.js", "text/javascript; charset=utf-8", ""))
	srv.Use("/docs/assets", filesystem.New(filesystem.Config{
		Root:   http.FS(swaggerFiles.FS),
		MaxAge: 3600,
	}))
}

// embeddedPage serves the embedded file name under docsCSP, with
// Cache-Control cacheControl unless empty.
func embeddedPage(fsys embed.FS, name, ctype, cacheControl string) fiber.Handler {
	body, err := fsys.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, ctype)
		c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
		if cacheControl != "" {
			c.Set(fiber.HeaderCacheControl, cacheControl)
		}
		return c.Send(body)
	}
}
