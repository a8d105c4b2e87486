// Package ipaynow is the iPayNow channel (现在支付, "helloNow" in the order
// API): the SDK parameters an app pays with (APP mode) or, in H5 mode, the
// link iPayNow's WP001 call answers; N001 notifications; MQ002 queries; R001
// refunds and their Q001 queries. Every message is signed with the same MD5
// rule (internal/signing): the sorted non-empty fields, "&", and the MD5 of
// the app key.
package ipaynow

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"cashier"
)

// Gateways, in the order API's words, and iPayNow's payChannelType for each.
const (
	GatewayAlipay = "alipay"
	GatewayWechat = "wechat"
)

var payChannelTypes = map[string]string{GatewayAlipay: "12", GatewayWechat: "13"}

// Defaults of the configuration.
const (
	DefaultGatewayURL = "https://pay.ipaynow.cn/"        // WP001 and MQ002
	DefaultRefundURL  = "https://pay.ipaynow.cn/refund/" // refundOrder (R001) and refundQuery (Q001)
	DefaultOrderType  = "01"                             // 普通消费, what iPayNow's SDKs send
)

// Field sets the app plugins sign (Config.SignFields).
const (
	SignFieldsPlugin  = "plugin"  // the 1.x/2.0 app plugins: their own fields only
	SignFieldsIOS2017 = "ios2017" // the iOS plugin from 2017-08: also funcode, deviceType, version, mhtSignType
)

// Config is what the channel needs from the merchant's iPayNow console.
type Config struct {
	AppID, AppKey string
	GatewayURL    string // default DefaultGatewayURL
	RefundURL     string // default DefaultRefundURL
	// H5 names the gateways paid in H5 mode: cashier asks iPayNow for the
	// link (WP001, deviceType 0601) instead of handing the app the SDK
	// parameters.
	H5 []string
	// OutputType is H5's outputType: "0" (default) the channel's own link
	// (an alipays:// or weixin:// scheme, or the channel's page), "1"
	// iPayNow's cashier page.
	OutputType string
	OrderType  string // mhtOrderType; default DefaultOrderType ("05" for deployments that used the seed's)
	SignFields string // SignFieldsPlugin (default) or SignFieldsIOS2017
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// IPayNow is the iPayNow channel.
type IPayNow struct {
	cfg Config
	log *slog.Logger
}

var (
	_ cashier.Channel  = (*IPayNow)(nil)
	_ cashier.Querier  = (*IPayNow)(nil)
	_ cashier.Refunder = (*IPayNow)(nil)
)

// New checks cfg and returns the channel.
func New(cfg Config) (*IPayNow, error) {
	if cfg.AppID == "" || cfg.AppKey == "" {
		return nil, errors.New("ipaynow: AppID and AppKey are required")
	}
	for _, u := range []*string{&cfg.GatewayURL, &cfg.RefundURL} {
		if *u == "" {
			continue
		}
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("ipaynow: %q is not an absolute http(s) URL", *u)
		}
	}
	if errs := modeProblems(cfg.H5, cfg.OutputType, cfg.OrderType, cfg.SignFields); len(errs) > 0 {
		return nil, fmt.Errorf("ipaynow: %w", errors.Join(errs...))
	}
	if cfg.GatewayURL == "" {
		cfg.GatewayURL = DefaultGatewayURL
	}
	if cfg.RefundURL == "" {
		cfg.RefundURL = DefaultRefundURL
	}
	if !strings.HasSuffix(cfg.RefundURL, "/") {
		cfg.RefundURL += "/" // refundOrder and refundQuery follow it
	}
	if cfg.OutputType == "" {
		cfg.OutputType = "0"
	}
	if cfg.OrderType == "" {
		cfg.OrderType = DefaultOrderType
	}
	if cfg.SignFields == "" {
		cfg.SignFields = SignFieldsPlugin
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &IPayNow{cfg: cfg, log: log}, nil
}

// modeProblems is what is wrong with the modes asked for, in the
// configuration file's words; empty values are the defaults.
func modeProblems(h5 []string, outputType, orderType, signFields string) []error {
	var errs []error
	for _, gw := range h5 {
		if _, ok := payChannelTypes[gw]; !ok {
			errs = append(errs, fmt.Errorf("helloNow.h5: %q is not a gateway: use alipay, wechat", gw))
		}
	}
	if !slices.Contains([]string{"", "0", "1", "2"}, outputType) {
		errs = append(errs, fmt.Errorf("helloNow.output_type %q: use 0, 1 or 2", outputType))
	}
	if orderType != "" && len(orderType) != 2 {
		errs = append(errs, fmt.Errorf("helloNow.order_type %q: two digits, 01 or 05", orderType))
	}
	if !slices.Contains([]string{"", SignFieldsPlugin, SignFieldsIOS2017}, signFields) {
		errs = append(errs, fmt.Errorf("helloNow.sign_fields %q: use %s or %s", signFields, SignFieldsPlugin, SignFieldsIOS2017))
	}
	return errs
}

// Name is the channel's name in the order API.
func (c *IPayNow) Name() string { return cashier.ChannelIPayNow }

// Gateways are the wallets iPayNow takes payment through.
func (c *IPayNow) Gateways() []string { return []string{GatewayAlipay, GatewayWechat} }

// WebGateways: in H5 mode, the first H5 gateway's link, drawn as a QR code
// on a computer and opened on a phone; in APP mode nothing (the SDK's
// parameters are no link).
func (c *IPayNow) WebGateways() cashier.WebGateways {
	for _, gw := range c.Gateways() {
		if c.h5(gw) {
			return cashier.WebGateways{Computer: gw, ComputerQR: true, Phone: gw}
		}
	}
	return cashier.WebGateways{}
}

// h5 reports whether gateway is paid in H5 mode.
func (c *IPayNow) h5(gateway string) bool { return slices.Contains(c.cfg.H5, gateway) }

// Reply is N001's acknowledgement: success=Y, or success=N for a resend.
func (c *IPayNow) Reply(ok bool) cashier.NotifyReply {
	body := "success=N"
	if ok {
		body = "success=Y"
	}
	return cashier.NotifyReply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(body)}
}
