package app_test

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	wechatsim "cashier/sandbox/wechat"

	"cashier/app"
	"cashier/pemkey"
)

// wechatVersionHarness is a harness whose WeChat Pay sandbox speaks API version v.
func wechatVersionHarness(t testing.TB, dsn string, v int, opts app.Options) *harness {
	return newHarnessWith(t, dsn, func(c *app.Config) {
		setSection(c, "wechat", fmt.Sprintf(`{"sandbox": true, "api_version": %d}`, v))
	}, opts)
}

func (h *harness) sandboxSecret(name string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.app.Config.SandboxDir(), name))
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (h *harness) wechatPlatformKey() *rsa.PrivateKey {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.app.Config.SandboxDir(), "wechat_platform_private.pem"))
	if err != nil {
		h.t.Fatal(err)
	}
	k, err := pemkey.ParseRSAPrivateKey(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

// buyWechat creates a package order paid with WeChat Pay through gateway.
func (h *harness) buyWechat(gateway string) reply {
	h.t.Helper()
	return h.post("/api/v1/order", h.token, url.Values{"source": {"ch001"}, "package_id": {"1"}, "channel": {"wechat"}, "gateway": {gateway}})
}

// wechatPay asks the WeChat simulator to pay an attempt.
func (h *harness) wechatPay(outTradeNo, result string) (int, map[string]any) {
	h.t.Helper()
	status, out, _ := h.simulatorPay("wechat", outTradeNo, result)
	return status, out
}

// wechatV2Notification is a paid notification as WeChat Pay v2 sends it, with
// fields overridden by over ("" deletes), signed with key (MD5) — written here
// from the protocol, independently of the channel's code.
func wechatV2Notification(key, outTradeNo string, totalFee int64, over map[string]string) string {
	p := map[string]string{
		"return_code": "SUCCESS", "appid": wechatsim.AppID, "mch_id": wechatsim.MchID,
		"nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "result_code": "SUCCESS", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		"trade_type": "APP", "bank_type": "CMC", "total_fee": strconv.FormatInt(totalFee, 10), "cash_fee": strconv.FormatInt(totalFee, 10),
		"transaction_id": "4200000000202611230000000001", "out_trade_no": outTradeNo, "time_end": "20261123180000",
	}
	for k, v := range over {
		if v == "" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	var keys []string
	for k, v := range p {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + p[k] + "&")
	}
	b.WriteString("key=" + key)
	sum := md5.Sum([]byte(b.String()))
	if _, ok := over["sign"]; !ok {
		p["sign"] = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	var x strings.Builder
	x.WriteString("<xml>")
	for k, v := range p {
		fmt.Fprintf(&x, "<%s><![CDATA[%s]]></%s>", k, v, k)
	}
	x.WriteString("</xml>")
	return x.String()
}

// wechatV3Notification is a TRANSACTION.SUCCESS notification as WeChat Pay v3
// sends it: the transaction encrypted with the APIv3 key (AES-256-GCM), the
// headers signed with the platform key.
func wechatV3Notification(t testing.TB, platform *rsa.PrivateKey, serial, apiV3Key string, ts time.Time, tx map[string]any) (string, http.Header) {
	plain, _ := json.Marshal(tx)
	block, err := aes.NewCipher([]byte(apiV3Key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, _ := cipher.NewGCM(block)
	nonce := "fdasflkja484"
	ct := gcm.Seal(nil, []byte(nonce), plain, []byte("transaction"))
	body, _ := json.Marshal(map[string]any{
		"id": "EV-2018022511223320873", "create_time": ts.Format(time.RFC3339), "event_type": "TRANSACTION.SUCCESS",
		"resource_type": "encrypt-resource", "summary": "支付成功",
		"resource": map[string]any{"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.StdEncoding.EncodeToString(ct),
			"nonce": nonce, "associated_data": "transaction", "original_type": "transaction"},
	})
	stamp := strconv.FormatInt(ts.Unix(), 10)
	headerNonce := "593BEC0C930BF1AFEB40B4A08C8FB242"
	sum := sha256.Sum256([]byte(stamp + "\n" + headerNonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, platform, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Wechatpay-Timestamp", stamp)
	hdr.Set("Wechatpay-Nonce", headerNonce)
	hdr.Set("Wechatpay-Serial", serial)
	hdr.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	hdr.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
	return string(body), hdr
}

func wechatV3Transaction(outTradeNo string, total int64, over map[string]any) map[string]any {
	tx := map[string]any{
		"appid": wechatsim.AppID, "mchid": wechatsim.MchID, "out_trade_no": outTradeNo,
		"transaction_id": "4200000000202611230000000002", "trade_type": "APP", "trade_state": "SUCCESS",
		"trade_state_desc": "支付成功", "bank_type": "CMC", "success_time": "2026-11-23T18:00:00+08:00",
		"payer":  map[string]any{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
		"amount": map[string]any{"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
	}
	for k, v := range over {
		tx[k] = v
	}
	return tx
}

// notifyWechat posts a notification to cashier's WeChat notify endpoint.
func (h *harness) notifyWechat(body string, hdr http.Header) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.url+"/api/v1/order/notify/wechat", strings.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// settleWechatRefunds has the WeChat simulator settle the refunds it holds,
// sending their notifications.
func (h *harness) settleWechatRefunds() { h.settleWechatRefundsAs("success") }

// settleWechatRefundsAs settles them with the given result: success,
// abnormal or closed.
func (h *harness) settleWechatRefundsAs(result string) {
	h.t.Helper()
	resp, err := http.Post(h.url+"/sandbox/wechat/refund/settle", "application/x-www-form-urlencoded", strings.NewReader("result="+result))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
}
