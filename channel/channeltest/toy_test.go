package channeltest_test

// A channel that exists only in this test, "toy", written the way a new
// channel is added: its protocol and Spec (what channel/toy/ would hold),
// its simulator (what sandbox/toy/ would hold), and one line in the list
// given to cashier. Nothing else in cashier knows it, yet it is configured,
// opened, mounted, given out_trade_no numbers, listed to operators and run
// through the whole conformance suite.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cashier"
	"cashier/app"
	"cashier/channel"
	"cashier/channel/channeltest"
	"cashier/internal/signing"
	"cashier/sandbox"
)

func TestANewChannelIsOneFolderAndOneLine(t *testing.T) {
	specs := append(app.Channels(), toySpec(openToySimulator)) // the one line
	channeltest.Run(t, specs, "toy")
}

// --- channel/toy: the protocol. A notification is a form, signed with
// MD5 over its sorted fields and the key.

type toySettings struct {
	Sandbox bool   `json:"sandbox"`
	KeyFile string `json:"key_file"`
}

func (s *toySettings) Defaults()       {}
func (s *toySettings) Sandboxed() bool { return s.Sandbox }
func (s *toySettings) Check() []error {
	if !s.Sandbox && s.KeyFile == "" {
		return []error{errors.New("toy.key_file is required")}
	}
	return nil
}

func toySpec(sim sandbox.Opener) channel.Spec {
	return channel.Spec{
		Name: "toy", TradeNoPrefix: "TOY",
		NewSettings: func() channel.Settings { return &toySettings{} },
		Open: func(set channel.Settings, _ channel.Env) (cashier.Channel, error) {
			key, err := os.ReadFile(set.(*toySettings).KeyFile)
			if err != nil {
				return nil, fmt.Errorf("toy.key_file: %w", err)
			}
			return &toy{key: strings.TrimSpace(string(key))}, nil
		},
		Simulator: sim,
	}
}

type toy struct{ key string }

func (t *toy) Name() string       { return "toy" }
func (t *toy) Gateways() []string { return []string{"app"} }

func (t *toy) Prepare(_ context.Context, req cashier.PrepareRequest) (*cashier.Credential, error) {
	return &cashier.Credential{Value: map[string]any{"out_trade_no": req.OutTradeNo, "amount": req.Amount, "notify_url": req.NotifyURL}}, nil
}

func (t *toy) VerifyNotification(_ context.Context, msg *cashier.InboundRequest) (*cashier.Notification, error) {
	form, err := url.ParseQuery(string(msg.Body))
	if err != nil || form.Get("out_trade_no") == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "not a toy notification")
	}
	fields := map[string]string{}
	for k := range form {
		fields[k] = form.Get(k)
	}
	if !signing.EqualHex(signing.MD5Hex(signing.SortedPairs(fields, "sign")+"&key="+t.key), fields["sign"]) {
		return nil, cashier.Errorf(cashier.EFORBIDDEN, "toy signature does not verify")
	}
	if fields["app"] != "toy" {
		return nil, cashier.Errorf(cashier.EUNPROCESSABLE, "toy notification for app %q", fields["app"])
	}
	amount, err := strconv.ParseInt(fields["amount"], 10, 64)
	if err != nil {
		return nil, cashier.Errorf(cashier.EINVALID, "toy amount %q", fields["amount"])
	}
	return &cashier.Notification{OutTradeNo: fields["out_trade_no"], ChannelTradeNo: "T" + fields["out_trade_no"],
		Amount: amount, Status: cashier.NotifyPaid, RawStatus: "PAID"}, nil
}

func (t *toy) Reply(ok bool) cashier.NotifyReply {
	if ok {
		return cashier.NotifyReply{Status: 200, ContentType: "text/plain", Body: []byte("OK")}
	}
	return cashier.NotifyReply{Status: 200, ContentType: "text/plain", Body: []byte("RETRY")}
}

// --- sandbox/toy: the simulator.

type toySimulator struct {
	key        string
	credential func(context.Context, string) (json.RawMessage, error)
	faults     sandbox.Faults
}

func openToySimulator(_ json.RawMessage, env sandbox.Env) (sandbox.Simulator, json.RawMessage, error) {
	path := filepath.Join(env.Dir, "toy_key.txt")
	key, err := sandbox.Secret(path, 16)
	if err != nil {
		return nil, nil, err
	}
	section, err := json.Marshal(map[string]string{"key_file": path})
	return &toySimulator{key: string(key), credential: env.Credential}, section, err
}

func (s *toySimulator) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /sandbox/toy/pay", func(w http.ResponseWriter, r *http.Request) {
		ans, err := s.Pay(r.Context(), r.PostFormValue("out_trade_no"), true, false)
		if err != nil {
			sandbox.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, ans)
	})
}

func (s *toySimulator) Faults() *sandbox.Faults { return &s.faults }

func (s *toySimulator) Pay(ctx context.Context, outTradeNo string, paid, hold bool) (*sandbox.PayAnswer, error) {
	raw, err := s.credential(ctx, outTradeNo)
	if err != nil {
		return nil, &sandbox.Refusal{Status: http.StatusNotFound, Code: "NO_TRADE", Reason: err.Error()}
	}
	var cred struct {
		Amount    int64  `json:"amount"`
		NotifyURL string `json:"notify_url"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil {
		return nil, err
	}
	fields := map[string]string{"app": "toy", "out_trade_no": outTradeNo, "amount": strconv.FormatInt(cred.Amount, 10)}
	ans := &sandbox.PayAnswer{OutTradeNo: outTradeNo, Status: "PAID", Paid: true, Notification: s.sign(cred.NotifyURL, fields, s.key)}
	return ans, sandbox.Send(ctx, http.DefaultClient, ans, hold)
}

func (s *toySimulator) Forge(n *sandbox.Message, how sandbox.Forgery) (*sandbox.Message, error) {
	form, _ := url.ParseQuery(string(n.Body))
	fields := map[string]string{"app": form.Get("app"), "out_trade_no": form.Get("out_trade_no"), "amount": form.Get("amount")}
	switch how {
	case sandbox.Tampered:
		m := s.sign(n.URL, fields, s.key)
		m.Body = []byte(strings.Replace(string(m.Body), "amount="+fields["amount"], "amount=1", 1))
		return m, nil
	case sandbox.OtherAmount:
		fields["amount"] += "1"
		return s.sign(n.URL, fields, s.key), nil
	case sandbox.OtherApp:
		fields["app"] = sandbox.OtherAppID
		return s.sign(n.URL, fields, s.key), nil
	case sandbox.OtherTrade:
		return nil, errors.New("the toy binds no trade numbers")
	}
	return s.sign(n.URL, fields, "not the key"), nil
}

func (s *toySimulator) sign(notifyURL string, fields map[string]string, key string) *sandbox.Message {
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	v.Set("sign", signing.MD5Hex(signing.SortedPairs(fields)+"&key="+key))
	return &sandbox.Message{URL: notifyURL, Body: []byte(v.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
}
