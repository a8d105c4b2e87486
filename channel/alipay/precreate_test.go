package alipay

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cashier"
	"cashier/sandbox"
)

// The qr gateway (当面付): the trade exists at Alipay once precreated and
// waits for the buyer, who pays by opening its qr_code; a refusal or an
// answer signed by another key is a channel error, not a credential.
func TestPrecreate(t *testing.T) {
	w := newSandboxWorld(t)
	otn := "ALI202612020000001234567890"
	link := w.prepare(GatewayQR, otn, 600)
	if !strings.HasPrefix(link, w.srv.URL+"/sandbox/alipay/gateway.do?") {
		t.Fatalf("qr_code %q", link)
	}
	n, err := w.ch.Query(context.Background(), cashier.Trade{OutTradeNo: otn})
	if err != nil || n.Status != cashier.NotifyPending || n.Amount != 600 {
		t.Fatalf("a precreated trade: %+v %v", n, err)
	}
	u, _ := url.Parse(link)
	resp, err := w.srv.Client().PostForm(w.srv.URL+"/sandbox/alipay/pay", url.Values{"order_string": {u.RawQuery}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pay the qr_code: %v %v", err, resp)
	}
	resp.Body.Close()
	if n, err := w.ch.Query(context.Background(), cashier.Trade{OutTradeNo: otn}); err != nil || n.Status != cashier.NotifyPaid {
		t.Errorf("after paying: %+v %v", n, err)
	}
	for name, f := range map[string]sandbox.Fault{"a refusal": {ErrCode: "ACQ.SYSTEM_ERROR"}, "a forged answer": {ForgedAnswer: true}} {
		w.sim.Faults().Inject(sandbox.OpPrepare, 1, f)
		now := time.Now()
		_, err := w.ch.Prepare(context.Background(), cashier.PrepareRequest{Gateway: GatewayQR, OutTradeNo: "ALI202612020000009999999999",
			Amount: 600, Subject: "gold", Now: now, ExpiresAt: now.Add(time.Hour)})
		if cashier.ErrorCode(err) != cashier.ECHANNEL {
			t.Errorf("%s: %v, want a channel error", name, err)
		}
	}
}
