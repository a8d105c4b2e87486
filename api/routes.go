package api

import (
	"cashier"
	"net/http"

	"cashier/web"
)

func addRoutes(mux *http.ServeMux, cfg Config) {
	co, log, user, admin := cfg.Checkout, cfg.Logger, cfg.Auth.User, cfg.Admin.Only

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(cfg.Pinger, cfg.SandboxChannels, cfg.SandboxBesideReal, log))
	mux.Handle("GET /openapi.json", handleOpenAPI())
	mux.Handle("GET /metrics", cfg.Metrics.Handler())

	once := func(scope func(*http.Request) string, h http.Handler) http.Handler {
		return idempotent(co, log, scope, h)
	}

	mux.Handle("POST /api/v1/order", user(once(userScope, handleCreateOrder(co, log))))
	mux.Handle("GET /api/v1/packages", user(handlePackages(co, log)))
	mux.Handle("GET /api/v1/orders", user(handleOrders(co, log)))
	mux.Handle("GET /api/v1/orders/{id}", user(handleOrder(co, log)))
	mux.Handle("POST /api/v1/orders/{id}/pay", user(handlePayOrder(co, log)))
	mux.Handle("POST /api/v1/orders/{id}/cancel", user(handleCancelOrder(co, log)))
	mux.Handle("POST /api/v1/orders/{id}/checkout", user(handleCheckoutLink(co, cfg.CheckoutLinks, cfg.PublicURL, log)))
	mux.Handle("POST /api/v1/order/apple/verify", user(handleVerifyPurchase(co, cashier.ChannelApple, log)))
	mux.Handle("GET /api/v1/coupons", user(handleCoupons(co, log)))
	mux.Handle("GET /api/v1/products", user(handleProducts(co, log)))
	mux.Handle("GET /api/v1/schemes", user(handleSchemes(co, log)))
	mux.Handle("GET /api/v1/cart/items", user(handleCartItems(co, log)))
	mux.Handle("POST /api/v1/cart/items", user(handleAddToCart(co, log)))
	mux.Handle("PATCH /api/v1/cart/items/{id}", user(handleSetCartCount(co, log)))
	mux.Handle("DELETE /api/v1/cart/items/{id}", user(handleRemoveFromCart(co, log)))
	mux.Handle("GET /api/v1/addresses", user(handleAddresses(co, log)))
	mux.Handle("POST /api/v1/addresses", user(handleSaveAddress(co, log)))
	mux.Handle("PUT /api/v1/addresses/{id}", user(handleSaveAddress(co, log)))
	mux.Handle("DELETE /api/v1/addresses/{id}", user(handleDeleteAddress(co, log)))
	mux.Handle("POST /api/v1/addresses/{id}/default", user(handleSetDefaultAddress(co, log)))

	// The shop API of seed 000.
	mux.Handle("POST /api/ShopPay/productCharge", user(once(userScope, handleProductCharge(co, log))))
	mux.Handle("POST /api/ShopPay/shoppingCartCharge", user(once(userScope, handleCartCharge(co, log))))
	mux.Handle("POST /api/CustomizedPay/buildOrder", user(once(userScope, handleBuildOrder(co, log))))
	mux.Handle("POST /api/ShopPay/orderCharge", user(handleOrderCharge(co, log)))
	mux.Handle("POST /api/ShopPay/settlement", user(handleSettlement(co, log)))

	mux.Handle("POST /admin/api/products", admin(handleAdminCreateProduct(co, log)))
	mux.Handle("POST /admin/api/products/{id}/standards", admin(handleAdminAddStandard(co, log)))
	mux.Handle("PUT /admin/api/standards/{id}/stock", admin(handleAdminSetStock(co, log)))
	mux.Handle("POST /admin/api/schemes", admin(handleAdminCreateScheme(co, log)))
	mux.Handle("POST /admin/api/packages", admin(handleAdminCreatePackage(co, log)))
	mux.Handle("POST /admin/api/coupons", admin(handleAdminCreateCoupon(co, log)))
	mux.Handle("GET /admin/api/orders/{id}", admin(handleAdminOrder(co, log)))
	mux.Handle("POST /admin/api/orders/{id}/refunds", admin(once(adminScope, handleAdminRefund(co, log))))
	mux.Handle("POST /admin/api/webhooks", admin(handleAdminCreateWebhook(co, log)))
	mux.Handle("GET /admin/api/webhooks", admin(handleAdminWebhooks(co, log)))
	mux.Handle("GET /admin/api/deliveries", admin(handleAdminDeliveries(co, log)))
	mux.Handle("POST /admin/api/events/{event_id}/resend", admin(handleAdminResend(co, log)))
	mux.Handle("GET /admin/api/orders", admin(handleAdminOrders(co, log)))
	mux.Handle("POST /admin/api/payments/{id}/refund", admin(handleAdminRefundPayment(co, log)))
	mux.Handle("POST /admin/api/payments/{id}/refunded-outside", admin(once(adminScope, handleAdminRefundedOutside(co, log))))
	mux.Handle("GET /admin/api/inbound", admin(handleAdminInbound(co, log)))
	mux.Handle("GET /admin/api/channels", admin(handleAdminChannels(co)))
	mux.Handle("GET /admin/{$}", web.Admin())

	notify := handleNotify(co, newAddressLimiter(cfg.NotifyRejectsPerMinute), cfg.Metrics, log)
	mux.Handle("/api/v1/order/notify/{channel}", notify)
	mux.Handle("/api/v1/order/notify/{channel}/{extra}", notify)
	mux.Handle("GET /api/v1/order/return/{channel}", handleReturn(co, log, cfg.ResultURL))
	mux.Handle("GET /pay/result/{id}", handleResultPage(co, log))

	pages := pageDeps{co: co, links: cfg.CheckoutLinks, publicURL: cfg.PublicURL, sandbox: len(cfg.SandboxChannels) > 0, log: log}
	mux.Handle("GET /checkout/{token}", pages.handlePage())
	mux.Handle("GET /checkout/{token}/status", pages.handleStatus())
	mux.Handle("GET /checkout/{token}/scan", pages.handleScan())
	mux.Handle("GET /{$}", handleHome(cfg.SandboxChannels, cfg.DemoUser != ""))
	mux.Handle("GET /docs", web.Docs())
	if cfg.DemoUser != "" {
		mux.Handle("POST /try", pages.handleTry(cfg.DemoUser))
	}

	if cfg.Sandbox != nil {
		cfg.Sandbox.Register(mux)
	}
	mux.Handle("/", handleNotFound(log))
}
