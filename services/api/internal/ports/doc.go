// Package ports is the API's entry point: Fiber routes that decode and
// validate requests, call internal/app and render answers, with every error
// as application/problem+json (http_problem.go). One file per entry point:
//
//   - http_routes.go: New, the middleware and every route;
//   - http_commands.go: start and the signals (cancel, update-address,
//     approve), decoded in http_decode.go;
//   - http_queries.go: status, order, events, the order list;
//   - http_board.go: the board page and its live event stream;
//   - http_docs.go: /openapi.yaml (openapi.yaml) and /docs (web/);
//   - http_codec.go: the Temporal UI's payload codec endpoint;
//   - http_health.go: /healthz and /readyz;
//   - http_auth.go: bearer credentials and scopes per route;
//   - http_observe.go: request metrics and tracing.
package ports
