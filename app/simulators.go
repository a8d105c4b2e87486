package app

import (
	"net/http"

	"cashier/sandbox"
)

// simulators mounts the simulators of the sandboxed channels.
type simulators map[string]sandbox.Simulator

// Register mounts every simulator that runs.
func (s simulators) Register(mux *http.ServeMux) {
	for _, sim := range s {
		sim.Register(mux)
	}
}
