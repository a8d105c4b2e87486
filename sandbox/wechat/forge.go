package wechat

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
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
// summary changed after signing.
func (w *WeChat) Forge(n *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	m := n.Clone()
	if m.Header.Get("Wechatpay-Signature") != "" {
		if how == sandbox.Tampered {
			changed := bytes.Replace(m.Body, []byte(`"summary":"`), []byte(`"summary":"X`), 1)
			if bytes.Equal(changed, m.Body) {
				return nil, errors.New("not a v3 notification: no summary")
			}
			m.Body = changed
			return m, nil
		}
		key, err := w.forgerKey()
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

// forgerKey is a real RSA key that is not WeChat Pay's: what a forger has.
func (w *WeChat) forgerKey() (*rsa.PrivateKey, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.forger == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		w.forger = key
	}
	return w.forger, nil
}
