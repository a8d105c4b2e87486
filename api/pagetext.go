package api

import (
	"net/http"
	"strings"
)

// pageText is what the pages say, in one language.
type pageText struct {
	Checkout, OrderNo, Amount, ExpiresIn, Paid, Returning, BackToMerchant, Closed, Expired, NothingToPay string
	ChooseMethod, PayWith, WaitingScan, OtherMethod, ScanAny, OnPhone, OnComputer, SandboxNote           string
	ScanExplain, OpenCheckout, NotFound, Intro, SandboxRunning, TryPayment, RealRunning, Links           string
	AdminConsole, AdminTokenHint, APIDocs, CannotPay                                                     string
	// Scan is "Scan with {channel}".
	Scan string
	// Channels name the channels the page offers.
	Channels map[string]string
}

var pageTexts = map[string]pageText{
	"en": {
		Checkout: "Checkout", OrderNo: "order", Amount: "Amount to pay", ExpiresIn: "Pay within",
		Paid: "Payment received.", Returning: "Taking you back to the merchant…", BackToMerchant: "Back to the merchant",
		Closed: "This order is closed: there is nothing to pay.", Expired: "This order has expired: there is nothing to pay.",
		NothingToPay: "This order needs no payment.", ChooseMethod: "Choose how to pay", PayWith: "Pay with",
		WaitingScan: "This page updates by itself once you have paid.", OtherMethod: "Choose another way to pay",
		ScanAny: "Or scan with Alipay or WeChat", OnPhone: "Paying on a phone?", OnComputer: "Paying on a computer?",
		SandboxNote:  "Sandbox: payments are simulated, no money moves.",
		ScanExplain:  "Open this code with the Alipay or WeChat app to pay. Other scanners cannot pay it: open the checkout page instead.",
		OpenCheckout: "Open the checkout page", NotFound: "Checkout link not valid",
		Intro:          "A self-hosted payment and order service: one API for Alipay, WeChat Pay, iPayNow, AdaPay, Apple in-app purchase, Yijie and QuickSDK.",
		SandboxRunning: "Sandbox mode: every channel runs against its built-in simulator. Simulated:",
		TryPayment:     "Try a payment", RealRunning: "Real channels are configured.", Links: "Where to go",
		AdminConsole: "Admin console", AdminTokenHint: "its token is in DATA/sandbox/admin_token (or admin_token_file)",
		APIDocs: "API documentation", CannotPay: "This way to pay is not available now:", Scan: "Scan with %s",
		Channels: map[string]string{"alipay": "Alipay", "wechat": "WeChat Pay", "adapay": "Alipay (AdaPay)", "helloNow": "iPayNow"},
	},
	"zh": {
		Checkout: "收银台", OrderNo: "订单", Amount: "应付金额", ExpiresIn: "请在此时间内支付",
		Paid: "支付成功。", Returning: "正在返回商户…", BackToMerchant: "返回商户",
		Closed: "订单已关闭，无需支付。", Expired: "订单已过期，无需支付。",
		NothingToPay: "该订单无需支付。", ChooseMethod: "选择支付方式", PayWith: "使用",
		WaitingScan: "支付完成后本页会自动更新。", OtherMethod: "选择其他支付方式",
		ScanAny: "或使用支付宝、微信扫码", OnPhone: "在手机上支付？", OnComputer: "在电脑上支付？",
		SandboxNote:  "沙箱环境：支付为模拟，不会扣款。",
		ScanExplain:  "请用支付宝或微信扫描此码支付。其他扫码工具无法支付，请打开收银台。",
		OpenCheckout: "打开收银台", NotFound: "收银台链接无效",
		Intro:          "自托管的支付与订单服务：一套接口接入支付宝、微信支付、现在支付、汇付、苹果内购、易接与 QuickSDK。",
		SandboxRunning: "沙箱模式：所有渠道都连接内置模拟器。模拟的渠道：",
		TryPayment:     "试一笔支付", RealRunning: "已配置真实渠道。", Links: "入口",
		AdminConsole: "管理后台", AdminTokenHint: "令牌在 DATA/sandbox/admin_token（或 admin_token_file）",
		APIDocs: "接口文档", CannotPay: "该支付方式暂不可用：", Scan: "请使用%s扫码",
		Channels: map[string]string{"alipay": "支付宝", "wechat": "微信支付", "adapay": "支付宝（汇付）", "helloNow": "现在支付"},
	},
}

// language picks the pages' language from Accept-Language: Chinese when
// the browser prefers it, English otherwise.
func language(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// channelLabel is a channel's name as the pages show it.
func (t pageText) channelLabel(name string) string {
	if l, ok := t.Channels[name]; ok {
		return l
	}
	return name
}
