package yijie_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"cashier"
	"cashier/channel/yijie"
)

const syncKey = "SYNCKEY0123456789"

// signed is a callback as Yijie's server sends it, signed here from the
// protocol's description, not with the channel's code.
func signed(v url.Values, key string) url.Values {
	s := fmt.Sprintf("app=%s&cbi=%s&ct=%s&fee=%s&pt=%s&sdk=%s&ssid=%s&st=%s&tcd=%s&uid=%s&ver=%s",
		v.Get("app"), v.Get("cbi"), v.Get("ct"), v.Get("fee"), v.Get("pt"), v.Get("sdk"), v.Get("ssid"), v.Get("st"), v.Get("tcd"), v.Get("uid"), v.Get("ver"))
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Set("sign", strings.ToUpper(fmt.Sprintf("%x", md5.Sum([]byte(s+key)))))
	return out
}

func genuine() url.Values {
	return url.Values{"app": {"9fcca9cc010a0752"}, "cbi": {"YJ202612020000001234567890"}, "ct": {"1764655200000"}, "fee": {"600"},
		"pt": {"1764655100000"}, "sdk": {"4ff036a13254eafe"}, "ssid": {"GPA.1"}, "st": {"1"}, "tcd": {"T1"}, "uid": {"u1"}, "ver": {"1"}}
}

func TestCallbacks(t *testing.T) {
	ch, err := yijie.New(yijie.Config{App: "{9FCCA9CC-010A0752}", SyncKey: syncKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get := &cashier.InboundRequest{Method: "GET", Query: signed(genuine(), syncKey).Encode()}
	n, err := ch.VerifyNotification(ctx, get)
	if err != nil || n.Status != cashier.NotifyPaid || n.Amount != 600 || n.OutTradeNo != "YJ202612020000001234567890" || n.ChannelTradeNo != "T1" || n.PaidAt.UnixMilli() != 1764655200000 {
		t.Fatalf("a genuine GET callback (upper-case sign): %+v, %v", n, err)
	}
	post := &cashier.InboundRequest{Method: "POST", Body: []byte(signed(genuine(), syncKey).Encode())}
	if n, err := ch.VerifyNotification(ctx, post); err != nil || n.Status != cashier.NotifyPaid {
		t.Fatalf("a genuine POST callback: %+v, %v", n, err)
	}
	with := func(k, val string) url.Values {
		v := genuine()
		if val == "<del>" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
		return v
	}
	failed := with("st", "0")
	if n, err := ch.VerifyNotification(ctx, &cashier.InboundRequest{Body: []byte(signed(failed, syncKey).Encode())}); err != nil || n.Status != cashier.NotifyFailed {
		t.Errorf("st=0: %+v, %v", n, err)
	}
	tampered := signed(genuine(), syncKey)
	tampered.Set("fee", "601")
	twice := signed(genuine(), syncKey)
	twice.Add("fee", "1")
	for _, c := range []struct {
		name string
		v    url.Values
		want string
	}{
		{"another sync key", signed(genuine(), "another key"), cashier.EFORBIDDEN},
		{"fee changed after signing", tampered, cashier.EFORBIDDEN},
		{"no sign", genuine(), cashier.EINVALID},
		{"no cbi", signed(with("cbi", "<del>"), syncKey), cashier.EINVALID},
		{"no fee", signed(with("fee", "<del>"), syncKey), cashier.EINVALID},
		{"fee twice", twice, cashier.EINVALID},
		{"fee not a number", signed(with("fee", "6.00"), syncKey), cashier.EINVALID},
		{"fee negative", signed(with("fee", "-600"), syncKey), cashier.EINVALID},
		{"another game", signed(with("app", "0000000020990000"), syncKey), cashier.EUNPROCESSABLE},
	} {
		if _, err := ch.VerifyNotification(ctx, &cashier.InboundRequest{Body: []byte(c.v.Encode())}); cashier.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

func TestTicket(t *testing.T) {
	ch, _ := yijie.New(yijie.Config{App: "A", SyncKey: "k"})
	cred, _ := ch.Prepare(context.Background(), cashier.PrepareRequest{OutTradeNo: "YJ1", Amount: 1, Subject: "至尊20天礼包", NotifyURL: "http://h/api/v1/order/notify/yijie"})
	if tk := cred.Value.(yijie.Ticket); tk != (yijie.Ticket{OrderID: "YJ1", Price: 1, Title: "至尊20天礼包", NotifyURL: "http://h/api/v1/order/notify/yijie"}) {
		t.Errorf("ticket %+v", tk)
	}
}
