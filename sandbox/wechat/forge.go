package wechat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-pay/gopay"
	gopaywechat "github.com/go-pay/gopay/wechat"

	"cashier/sandbox"
)

// Forge spoils a payment notification. v2: Forged is signed with an API key
// that is not the merchant's, Tampered says one fen more than was signed. v3:
// Forged is signed with a key that is not WeChat Pay's, Tampered has its
// summary changed after signing. Both: OtherAmount and OtherApp are genuine
// notifications of one fen more or for another app.
func (w *WeChat) Forge(n *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	m := n.Clone()
	switch how {
	case sandbox.OtherAmount, sandbox.OtherApp:
		return w.misdirect(m, how)
	case sandbox.Forged, sandbox.Tampered:
	default:
		return nil, fmt.Errorf("the WeChat Pay sandbox cannot forge %s", how)
	}
	if m.Header.Get("Wechatpay-Signature") != "" {
		if how == sandbox.Tampered {
			changed := bytes.Replace(m.Body, []byte(`"summary":"`), []byte(`"summary":"X`), 1)
			if bytes.Equal(changed, m.Body) {
				return nil, errors.New("not a v3 notification: no summary")
			}
			m.Body = changed
			return m, nil
		}
		key, err := sandbox.ForgerKey()
		if err != nil {
			return nil, err
		}
		return m, w.v3SignWith(key, m.Header, m.Body)
	}
	fields := make(gopay.BodyMap)
	if err := xml.Unmarshal(m.Body, &fields); err != nil {
		return nil, fmt.Errorf("not a v2 notification: %w", err)
	}
	if how == sandbox.Tampered {
		fee, err := strconv.ParseInt(fields.GetString("total_fee"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("total_fee %q: %w", fields.GetString("total_fee"), err)
		}
		fields.Set("total_fee", strconv.FormatInt(fee+1, 10))
	} else {
		signType := wechatMD5
		if len(fields.GetString("sign")) == 64 {
			signType = wechatHMACSHA256
		}
		fields.Set("sign", gopaywechat.GetReleaseSign(wechatRandomString(32), signType, fields))
	}
	m.Body = []byte(gopaywechat.GenerateXml(fields))
	return m, nil
}

// misdirect changes the amount or the app of m's payment and signs it again
// as WeChat Pay would have (v3: encrypts the changed transaction again).
func (w *WeChat) misdirect(m *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	if m.Header.Get("Wechatpay-Signature") == "" {
		fields := make(gopay.BodyMap)
		if err := xml.Unmarshal(m.Body, &fields); err != nil {
			return nil, fmt.Errorf("not a v2 notification: %w", err)
		}
		if how == sandbox.OtherApp {
			fields.Set("appid", sandbox.OtherAppID)
		} else {
			fee, err := strconv.ParseInt(fields.GetString("total_fee"), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("total_fee %q: %w", fields.GetString("total_fee"), err)
			}
			fields.Set("total_fee", strconv.FormatInt(fee+1, 10)).Set("cash_fee", strconv.FormatInt(fee+1, 10))
		}
		signType := wechatMD5
		if len(fields.GetString("sign")) == 64 {
			signType = wechatHMACSHA256
		}
		fields.Remove("sign")
		fields.Set("sign", gopaywechat.GetReleaseSign(w.APIKey, signType, fields))
		m.Body = []byte(gopaywechat.GenerateXml(fields))
		return m, nil
	}
	var event wechatV3Event
	if err := json.Unmarshal(m.Body, &event); err != nil {
		return nil, fmt.Errorf("not a v3 notification: %w", err)
	}
	plain, err := w.v3Decrypt(event.Resource)
	if err != nil {
		return nil, err
	}
	var txn map[string]any
	if err := json.Unmarshal(plain, &txn); err != nil {
		return nil, fmt.Errorf("v3 resource: %w", err)
	}
	if how == sandbox.OtherApp {
		txn["appid"] = sandbox.OtherAppID
	} else {
		amount, _ := txn["amount"].(map[string]any)
		total, ok := amount["total"].(float64)
		if !ok {
			return nil, errors.New("v3 resource: no amount.total")
		}
		amount["total"], amount["payer_total"] = total+1, total+1
	}
	body, err := w.v3Event(event.EventType, event.Summary, event.Resource.OriginalType, txn)
	if err != nil {
		return nil, err
	}
	m.Body = body
	return m, w.v3Sign(m.Header, body)
}

// v3Decrypt opens a v3 notification's resource with the APIv3 key.
func (w *WeChat) v3Decrypt(r wechatV3Resource) ([]byte, error) {
	gcm, err := w.v3AEAD()
	if err != nil {
		return nil, err
	}
	sealed, err := base64.StdEncoding.DecodeString(r.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("v3 resource: %w", err)
	}
	plain, err := gcm.Open(nil, []byte(r.Nonce), sealed, []byte(r.AssociatedData))
	if err != nil {
		return nil, fmt.Errorf("v3 resource: %w", err)
	}
	return plain, nil
}
