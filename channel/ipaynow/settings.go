package ipaynow

import (
	"errors"
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

// Defaults fills in the timeout; New fills in the rest.
func (s *Settings) Defaults() {
	if s.Timeout <= 0 {
		s.Timeout = channel.Duration(10 * time.Second)
	}
}

// Sandboxed says whether the section asks for the simulator.
func (s *Settings) Sandboxed() bool { return s.Sandbox }

// Check reports every problem at once.
func (s *Settings) Check() []error {
	errs := modeProblems(s.H5, s.OutputType, s.OrderType, s.SignFields)
	if !s.Sandbox && (s.AppID == "" || s.AppKeyFile == "") {
		errs = append(errs, errors.New("helloNow: app_id and app_key_file are required"))
	}
	return errs
}

// open reads the app key and opens the channel.
func open(set channel.Settings, env channel.Env) (cashier.Channel, error) {
	s := set.(*Settings)
	key, err := channel.ReadSecret("helloNow.app_key_file", s.AppKeyFile)
	if err != nil {
		return nil, err
	}
	return New(Config{AppID: s.AppID, AppKey: key, GatewayURL: s.GatewayURL, RefundURL: s.RefundURL,
		H5: s.H5, OutputType: s.OutputType, OrderType: s.OrderType, SignFields: s.SignFields,
		HTTPClient: env.Client(time.Duration(s.Timeout)), Logger: env.Logger})
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
