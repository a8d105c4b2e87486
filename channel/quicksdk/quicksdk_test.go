package quicksdk_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"cashier"
	"cashier/channel/quicksdk"
)

// The public vector: md5Sign verifies and nt_data decodes to the sample's
// XML (the older <skymoons_message> root), a paid callback of 0.01 yuan.
func TestVector(t *testing.T) {
	raw, err := os.ReadFile("testdata/quicksdk_callback.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		MD5Key          string   `json:"md5_key"`
		CallbackKey     string   `json:"callback_key"`
		NtData          string   `json:"nt_data"`
		Sign            string   `json:"sign"`
		MD5Sign         string   `json:"md5Sign"`
		DecodedContains []string `json:"decoded_contains"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if got := quicksdk.MD5Sign(v.NtData, v.Sign, v.MD5Key); got != v.MD5Sign {
		t.Errorf("md5Sign %s, want %s", got, v.MD5Sign)
	}
	xml, err := quicksdk.Decode(v.NtData, v.CallbackKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range v.DecodedContains {
		if !strings.Contains(string(xml), want) {
			t.Errorf("decoded nt_data lacks %s: %s", want, xml)
		}
	}
	// The sample's game order (out_order_no, in this older format) is
	// empty: the channel verifies it, and refuses it for naming no order.
	ch, _ := quicksdk.New(quicksdk.Config{MD5Key: v.MD5Key, CallbackKey: v.CallbackKey, AcceptTest: true})
	form := url.Values{"nt_data": {v.NtData}, "sign": {v.Sign}, "md5Sign": {v.MD5Sign}}
	_, err = ch.VerifyNotification(context.Background(), &cashier.InboundRequest{Method: "POST", Body: []byte(form.Encode())})
	if cashier.ErrorCode(err) != cashier.EINVALID || !strings.Contains(err.Error(), "game_order") {
		t.Errorf("the vector (no game order): %v", err)
	}
	form.Set("md5Sign", strings.Replace(v.MD5Sign, "0", "1", 1))
	_, err = ch.VerifyNotification(context.Background(), &cashier.InboundRequest{Method: "POST", Body: []byte(form.Encode())})
	if cashier.ErrorCode(err) != cashier.EFORBIDDEN {
		t.Errorf("the vector with another md5Sign: %v", err)
	}
	// The same payment, naming an order, in the older format.
	named := strings.Replace(string(xml), "<out_order_no></out_order_no>", "<out_order_no>QS1</out_order_no>", 1)
	n, err := ch.VerifyNotification(context.Background(), &cashier.InboundRequest{Body: callback(named, v.MD5Key, v.CallbackKey)})
	if err != nil || n.Status != cashier.NotifyPaid || n.Amount != 1 || n.OutTradeNo != "QS1" || n.ChannelTradeNo != "0100201411051533011128033" {
		t.Errorf("the vector's payment naming an order: %+v, %v", n, err)
	}
}

// encode is QuickSDK's nt_data encoding, written here from the protocol's
// description, not the channel's code.
func encode(plain, key string) string {
	var b strings.Builder
	for i := 0; i < len(plain); i++ {
		fmt.Fprintf(&b, "@%d", int(plain[i])+int(key[i%len(key)]&0xff))
	}
	return b.String()
}

const md5Key, cbKey = "0123456789abcdef0123456789abcdef", "k3y-of-the-callback"

// callback is a callback a game's QuickSDK would post, signed with keys.
func callback(xml, md5k, cbk string) []byte {
	nt := encode(xml, cbk)
	sign := encode("d41d8cd98f00b204e9800998ecf8427e", cbk)
	sum := md5.Sum([]byte(nt + sign + md5k))
	return []byte(url.Values{"nt_data": {nt}, "sign": {sign}, "md5Sign": {hex.EncodeToString(sum[:])}}.Encode())
}

func xmlOf(isTest, amount, status, extra string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><quicksdk_message><message><is_test>` + isTest +
		`</is_test><channel>8888</channel><game_order>QS202612020000001234567890</game_order><order_no>Q1</order_no>` +
		`<pay_time>2026-12-02 14:00:00</pay_time><amount>` + amount + `</amount><status>` + status + `</status>` + extra +
		`</message></quicksdk_message>`
}

func TestCallbacks(t *testing.T) {
	ch, err := quicksdk.New(quicksdk.Config{MD5Key: md5Key, CallbackKey: cbKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n, err := ch.VerifyNotification(ctx, &cashier.InboundRequest{Body: callback(xmlOf("0", "6.00", "0", "<extras_params>a=1&b=2</extras_params>"), md5Key, cbKey)})
	if err != nil || n.Status != cashier.NotifyPaid || n.Amount != 600 || n.OutTradeNo != "QS202612020000001234567890" ||
		n.PaidAt.Format("15:04") != "06:00" {
		t.Fatalf("a genuine callback (with a bare & in extras_params) verified as %+v, %v", n, err)
	}
	if n, err := ch.VerifyNotification(ctx, &cashier.InboundRequest{Body: callback(xmlOf("0", "6.00", "1", ""), md5Key, cbKey)}); err != nil || n.Status != cashier.NotifyFailed {
		t.Errorf("status 1: %+v, %v", n, err)
	}
	bomb := `<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` +
		`<quicksdk_message><message><game_order>&c;</game_order><amount>6.00</amount><status>0</status></message></quicksdk_message>`
	for _, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"no md5Sign", []byte("nt_data=@1&sign=@2"), cashier.EINVALID},
		{"no nt_data", []byte("sign=@2&md5Sign=abc"), cashier.EINVALID},
		{"not a form", []byte("%zz"), cashier.EINVALID},
		{"another MD5 key", callback(xmlOf("0", "6.00", "0", ""), "another key", cbKey), cashier.EFORBIDDEN},
		{"another callback key", callback(xmlOf("0", "6.00", "0", ""), md5Key, "another key"), cashier.EINVALID},
		{"a test payment", callback(xmlOf("1", "6.00", "0", ""), md5Key, cbKey), cashier.EUNPROCESSABLE},
		{"amount not a number", callback(xmlOf("0", "six", "0", ""), md5Key, cbKey), cashier.EINVALID},
		{"amount with three decimals", callback(xmlOf("0", "6.001", "0", ""), md5Key, cbKey), cashier.EINVALID},
		{"amount zero", callback(xmlOf("0", "0.00", "0", ""), md5Key, cbKey), cashier.EINVALID},
		{"no game_order", callback(strings.Replace(xmlOf("0", "6.00", "0", ""), "QS202612020000001234567890", "", 1), md5Key, cbKey), cashier.EINVALID},
		{"another root element", callback("<other><message/></other>", md5Key, cbKey), cashier.EINVALID},
		{"not XML", callback("not xml at all", md5Key, cbKey), cashier.EINVALID},
		{"an entity bomb", callback(bomb, md5Key, cbKey), cashier.EINVALID},
		{"nt_data over 8 KiB", callback(xmlOf("0", "6.00", "0", "<extras_params>"+strings.Repeat("x", 9<<10)+"</extras_params>"), md5Key, cbKey), cashier.EINVALID},
	} {
		if _, err := ch.VerifyNotification(ctx, &cashier.InboundRequest{Body: c.body}); cashier.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

func TestTicket(t *testing.T) {
	ch, _ := quicksdk.New(quicksdk.Config{MD5Key: md5Key, CallbackKey: cbKey})
	cred, err := ch.Prepare(context.Background(), cashier.PrepareRequest{OutTradeNo: "QS1", Amount: 19800, Subject: "Supreme",
		NotifyURL: "http://127.0.0.1/api/v1/order/notify/quickSdk", Package: &cashier.Package{Gold: 2000, Diamond: 200}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cred.Value)
	if string(b) != `{"orderid":"QS1","price":19800,"title":"Supreme","gold":2000,"diamond":200,"notify_url":"http://127.0.0.1/api/v1/order/notify/quickSdk"}` {
		t.Errorf("ticket %s", b)
	}
}
