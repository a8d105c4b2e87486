package cashier

import (
	"encoding/json"
	"strings"
)

// WebPayer is a channel a buyer can pay from cashier's checkout page,
// without an app SDK: the gateway to use on a computer, whose link the page
// draws as a QR code to scan with a phone (WeChat's NATIVE code_url,
// AdaPay's alipays:// link) or opens (Alipay's page pay), and the gateway to
// use on a phone, whose link a button opens (the wap/H5 flows).
type WebPayer interface {
	WebGateways() WebGateways
}

// WebGateways are a WebPayer's gateways for the checkout page.
type WebGateways struct {
	Computer string
	// ComputerQR: the computer's link is drawn as a QR code rather than
	// opened.
	ComputerQR bool
	Phone      string
	// PhoneReturn is the query parameter the phone link takes to send the
	// buyer back once paid (WeChat H5's redirect_url); "" for none.
	PhoneReturn string
}

// CredentialLink is the link a credential holds: the credential itself
// when it is a URL string (Alipay's web and wap URLs, WeChat's H5 URL,
// AdaPay's alipays:// link), or its code_url (WeChat's NATIVE scan) or url
// (iPayNow's H5 answer). "" when it holds none (an SDK's parameters).
func CredentialLink(raw []byte) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.Contains(s, "://") {
			return s
		}
		return ""
	}
	var obj struct {
		CodeURL string `json:"code_url"`
		URL     string `json:"url"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	if obj.CodeURL != "" {
		return obj.CodeURL
	}
	return obj.URL
}
