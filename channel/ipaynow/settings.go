package ipaynow

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"cashier"
	"cashier/channel"
	"cashier/sandbox"
)

// Settings is the "helloNow" section of the configuration file.
type Settings struct {
	// Sandbox runs iPayNow against the built-in simulator; the credential
	// fields are then ignored.
	Sandbox    bool   `json:"sandbox"`
	AppID      string `json:"app_id"`
	AppKeyFile string `json:"app_key_file"` // the app key (appKey) from iPayNow's console
	GatewayURL string `json:"gateway_url"`  // WP001 and MQ002; default DefaultGatewayURL
	RefundURL  string `json:"refund_url"`   // R001 and Q001; default DefaultRefundURL
	// H5 lists the gateways ("alipay", "wechat") paid in H5 mode, where
	// the client gets {"is_h5": true, "url": …}; the others get the SDK
	// parameters (APP mode, the default).
	H5         []string         `json:"h5"`
	OutputType string           `json:"output_type"` // H5: "0" (default) the wallet's own link, "1" iPayNow's page
	OrderType  string           `json:"order_type"`  // mhtOrderType: "01" (default), or "05" as the seed shows
	SignFields string           `json:"sign_fields"` // APP: "plugin" (default) or "ios2017", per the app plugin's version
	Timeout    channel.Duration `json:"timeout"`     // default 10s
}

// Defaults fills in the URLs, the modes and the timeout.
func (s *Settings) Defaults() {
	if s.GatewayURL == "" {
		s.GatewayURL = DefaultGatewayURL
	}
	if s.RefundURL == "" {
		s.RefundURL = DefaultRefundURL
	}
	if s.OutputType == "" {
		s.OutputType = "0"
	}
	if s.OrderType == "" {
		s.OrderType = DefaultOrderType
	}
	if s.SignFields == "" {
		s.SignFields = SignFieldsPlugin
	}
	if s.Timeout <= 0 {
		s.Timeout = channel.Duration(10 * time.Second)
	}
}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every problem at once.
func (s *Settings) Check() []error {
	var errs []error
	for _, gw := range s.H5 {
		if _, ok := payChannelTypes[gw]; !ok {
			errs = append(errs, fmt.Errorf("helloNow.h5: %q is not a gateway: use alipay, wechat", gw))
		}
	}
	if !slices.Contains([]string{"0", "1", "2"}, s.OutputType) {
		errs = append(errs, fmt.Errorf("helloNow.output_type %q: use 0 or 1", s.OutputType))
	}
	if len(s.OrderType) != 2 {
		errs = append(errs, fmt.Errorf("helloNow.order_type %q: two digits, 01 or 05", s.OrderType))
	}
	if s.SignFields != SignFieldsPlugin && s.SignFields != SignFieldsIOS2017 {
		errs = append(errs, fmt.Errorf("helloNow.sign_fields %q: use %s or %s", s.SignFields, SignFieldsPlugin, SignFieldsIOS2017))
	}
	if s.Sandbox {
		return errs
	}
	if s.AppID == "" || s.AppKeyFile == "" {
		errs = append(errs, errors.New("helloNow: app_id and app_key_file are required"))
	}
	if !strings.HasSuffix(s.RefundURL, "/") {
		errs = append(errs, errors.New("helloNow.refund_url must end with / (refundOrder and refundQuery follow it)"))
	}
	return errs
}

// open reads the app key and opens the channel.
func open(set channel.Settings, env channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	key, err := os.ReadFile(s.AppKeyFile)
	if err != nil {
		return nil, fmt.Errorf("helloNow.app_key_file: %w", err)
	}
	return New(Config{AppID: s.AppID, AppKey: strings.TrimSpace(string(key)), GatewayURL: s.GatewayURL, RefundURL: s.RefundURL,
		H5: s.H5, OutputType: s.OutputType, OrderType: s.OrderType, SignFields: s.SignFields,
		HTTPClient: env.Client(time.Duration(s.Timeout)), Now: env.Now, Logger: env.Logger})
}

// Spec describes the iPayNow channel for cashier's list of channels;
// simulator is its simulator's opener (sandbox/ipaynow.Open). The
// conformance suite runs it in APP mode and in H5 mode.
func Spec(simulator sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name:            cashier.ChannelIPayNow,
		TradeNoPrefix:   "HNOW",
		NewSettings:     func() channel.Settings { return &Settings{} },
		Open:            open,
		Simulator:       simulator,
		SandboxVariants: []string{`{"sandbox": true}`, `{"sandbox": true, "h5": ["alipay", "wechat"]}`},
	}
}
