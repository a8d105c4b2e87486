package api

import "net/http"

func addRoutes(mux *http.ServeMux, cfg Config) {
	co, log, user := cfg.Checkout, cfg.Logger, cfg.Auth.User

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(cfg.Pinger, log))
	mux.Handle("GET /openapi.json", handleOpenAPI())

	mux.Handle("POST /api/v1/order", user(handleCreateOrder(co, log)))
	mux.Handle("GET /api/v1/packages", user(handlePackages(co, log)))
	mux.Handle("GET /api/v1/orders", user(handleOrders(co, log)))
	mux.Handle("GET /api/v1/orders/{id}", user(handleOrder(co, log)))
	mux.Handle("POST /api/v1/orders/{id}/pay", user(handlePayOrder(co, log)))
	mux.Handle("POST /api/v1/orders/{id}/cancel", user(handleCancelOrder(co, log)))
	mux.Handle("GET /api/v1/coupons", user(handleCoupons(co, log)))

	notify := handleNotify(co, log)
	mux.Handle("/api/v1/order/notify/{channel}", notify)
	mux.Handle("/api/v1/order/notify/{channel}/{extra}", notify)
	mux.Handle("GET /api/v1/order/return/alipay", handleAlipayReturn(co, log, cfg.ResultURL))
	mux.Handle("GET /pay/result/{id}", handleResultPage(co, log))

	if cfg.Sandbox != nil {
		cfg.Sandbox.Register(mux)
	}
	mux.Handle("/", handleNotFound(log))
}
