package alipay

import (
	"fmt"
	"net/url"

	gopayalipay "github.com/go-pay/gopay/alipay"

	"cashier"
	"cashier/sandbox"
)

// Forge spoils a notification: Forged is signed with a key that is not
// "Alipay's", Tampered pays 0.01 yuan more than was signed; OtherAmount and
// OtherApp are signed by "Alipay" for 0.01 yuan more or for another app.
func (a *Alipay) Forge(n *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	values, err := url.ParseQuery(string(n.Body))
	if err != nil {
		return nil, fmt.Errorf("not an Alipay notification: %w", err)
	}
	params, err := singleValues(values)
	if err != nil {
		return nil, err
	}
	switch how {
	case sandbox.Forged:
		key, err := sandbox.ForgerKey()
		if err != nil {
			return nil, err
		}
		sig, err := gopayalipay.GetRsaSign(bodyMap(params, "sign", "sign_type"), gopayalipay.RSA2, key)
		if err != nil {
			return nil, err
		}
		params["sign"] = sig
	case sandbox.Tampered, sandbox.OtherAmount:
		fen, err := cashier.ParseYuan(params["total_amount"])
		if err != nil {
			return nil, fmt.Errorf("total_amount %q: %w", params["total_amount"], err)
		}
		for _, k := range []string{"total_amount", "receipt_amount", "buyer_pay_amount", "invoice_amount"} {
			if _, ok := params[k]; ok {
				params[k] = cashier.FormatYuan(fen + 1)
			}
		}
	case sandbox.OtherApp:
		params["app_id"], params["auth_app_id"] = sandbox.OtherAppID, sandbox.OtherAppID
	default:
		return nil, fmt.Errorf("the Alipay sandbox cannot forge %s", how)
	}
	if how == sandbox.OtherAmount || how == sandbox.OtherApp {
		if err := a.signPlatform(params); err != nil {
			return nil, err
		}
	}
	m := n.Clone()
	m.Body = []byte(sandbox.EncodeForm(params))
	return m, nil
}
