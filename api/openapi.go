package api

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIJSON is the OpenAPI 3.0 description of every route addRoutes serves;
// openapi_test.go fails when a route is not in it.
//
//go:embed openapi.json
var openAPIJSON []byte

// GET /openapi.json: the OpenAPI description of this API, as written.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Content-Length", strconv.Itoa(len(openAPIJSON)))
		w.WriteHeader(http.StatusOK)
		w.Write(openAPIJSON)
	})
}
