package gopaykit

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func passThrough(req *http.Request) (*http.Request, error) { return req, nil }

// get GETs url with hc, recording the answer in an exchange when record is
// set, and returns the exchange and what the caller read.
func get(t *testing.T, hc *http.Client, url string, record bool) (*Exchange, string) {
	t.Helper()
	ctx, x := t.Context(), (*Exchange)(nil)
	if record {
		ctx, x = WithExchange(ctx)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return x, string(body)
}

func TestExchangeRecordsTheAnswer(t *testing.T) {
	answer := `{"code":"PARAM_ERROR"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Wechatpay-Serial", "S1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	hc := NewHTTPClient(srv.Client(), time.Second, passThrough).HttpClient

	x, body := get(t, hc, srv.URL, true)
	if body != answer {
		t.Errorf("the caller read %q", body)
	}
	if x.Status != http.StatusBadRequest || x.Header.Get("Wechatpay-Serial") != "S1" || string(x.Body) != answer {
		t.Errorf("recorded %d %v %q", x.Status, x.Header, x.Body)
	}
	// Without an exchange, the answer passes untouched.
	if _, body := get(t, hc, srv.URL, false); body != answer {
		t.Errorf("the caller read %q", body)
	}
}

func TestExchangeIsCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), MaxAnswer+10))
	}))
	defer srv.Close()
	hc := NewHTTPClient(srv.Client(), time.Second, passThrough).HttpClient
	if x, body := get(t, hc, srv.URL, true); len(x.Body) != MaxAnswer || len(body) != MaxAnswer {
		t.Errorf("recorded %d bytes and passed on %d, want %d", len(x.Body), len(body), MaxAnswer)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestRouteRefuses(t *testing.T) {
	reached := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	defer srv.Close()
	refuse := errors.New("refused")
	hc := NewHTTPClient(srv.Client(), time.Second, func(*http.Request) (*http.Request, error) { return nil, refuse }).HttpClient

	body := &closeRecorder{Reader: strings.NewReader("x")}
	ctx, x := WithExchange(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, body)
	if _, err := hc.Do(req); !errors.Is(err, refuse) {
		t.Errorf("error %v, want the route's", err)
	}
	if reached || x.Status != 0 {
		t.Error("a refused request was sent")
	}
	if !body.closed {
		t.Error("the refused request's body was not closed")
	}
}

func TestClientSettings(t *testing.T) {
	if c := NewHTTPClient(nil, 7*time.Second, passThrough).HttpClient; c.Timeout != 7*time.Second {
		t.Errorf("timeout %v without a client", c.Timeout)
	}
	hc := &http.Client{Timeout: 3 * time.Second}
	c := NewHTTPClient(hc, 7*time.Second, passThrough).HttpClient
	if c.Timeout != 3*time.Second {
		t.Errorf("timeout %v, want the client's", c.Timeout)
	}
	if hc.Transport != nil || c == hc {
		t.Error("the given client was changed")
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Debug("dump")
	l.Debugf("sign %s", "key")
	l.Info("dump")
	l.Infof("sign %s", "key")
	if buf.Len() != 0 {
		t.Errorf("debug and info lines were written: %s", buf.String())
	}
	l.Warn("w", 1)
	l.Warnf("w%d", 2)
	l.Error("e", 3)
	l.Errorf("e%d", 4)
	out := buf.String()
	for _, want := range []string{`level=WARN msg="gopay: w1"`, `level=WARN msg="gopay: w2"`, `level=ERROR msg="gopay: e3"`, `level=ERROR msg="gopay: e4"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
