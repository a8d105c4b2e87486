package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// maxReply bounds what is read of cashier's answer to a notification.
const maxReply = 64 << 10

// Deliver posts a notification and returns cashier's answer: its status and
// body, which the simulator reports as the channel would log them. err is
// set only when no answer came.
func Deliver(ctx context.Context, client *http.Client, m *Message) (status int, reply string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return 0, "", fmt.Errorf("build notification: %w", err)
	}
	for k, vs := range m.Header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return 0, "", fmt.Errorf("read notification reply: %w", err)
	}
	return resp.StatusCode, string(got), nil
}

// Send delivers an answer's notification unless it is held, and records
// cashier's reply in it. A notification that got no answer is a 502
// Refusal, with the answer saying so.
func Send(ctx context.Context, client *http.Client, a *PayAnswer, hold bool) error {
	if a.Notification == nil || hold {
		return nil
	}
	var err error
	a.NotifyStatus, a.NotifyReply, err = Deliver(ctx, client, a.Notification)
	if err != nil {
		a.Error = "notification not delivered: " + err.Error()
		return &Refusal{Status: http.StatusBadGateway, Code: "notify-failed", Reason: a.Error}
	}
	return nil
}
