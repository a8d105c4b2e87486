package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"cashier"
	"cashier/sqlstore/storetest"
)

// The pages a person sees, in a real browser: Debian's Chromium driven by
// chromedp. Without Chromium the tests skip, except in CI, where .ci/run
// installs it and a missing browser fails.

// browserPath finds Chromium.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium: .ci/run installs Debian's chromium; browser tests never skip in CI")
	}
	t.Skip("no Chromium installed (apt-get install chromium): the browser tests are skipped")
	return ""
}

// browser is one headless Chromium tab; userAgent "" keeps Chromium's,
// lang is its Accept-Language.
func browser(t *testing.T, userAgent, lang string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browserPath(t)), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("accept-lang", lang),
		chromedp.UserDataDir(t.TempDir()))
	if userAgent != "" {
		opts = append(opts, chromedp.UserAgent(userAgent))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx, "failed")
		}
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	if _, err := chromedp.Run(ctx, chromedp.Location()); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshot writes the page as a PNG: into a temp dir (a failed test), or
// into $CASHIER_SCREENSHOTS when set (the README's pictures).
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("CASHIER_SCREENSHOTS")
	if dir == "" {
		if name != "failed" {
			return
		}
		dir = os.TempDir()
		name = strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-failed"
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the page: %s", path)
}

// checkoutURL places an alipay web order and returns it with the link of
// its checkout page, which returns to returnURL.
func checkoutURL(t *testing.T, h *harness, returnURL string) (orderID, link string) {
	t.Helper()
	id, _ := h.mustBuy("web", nil)
	r := h.post("/api/v1/orders/"+id+"/checkout", h.token, url.Values{"return_url": {returnURL}})
	var d struct {
		CheckoutURL string `json:"checkout_url"`
	}
	if r.Status != 200 || json.Unmarshal(r.Data, &d) != nil || !strings.HasPrefix(d.CheckoutURL, h.url+"/checkout/") {
		t.Fatalf("checkout link: %d %s %s", r.Status, r.Message, r.Data)
	}
	return id, d.CheckoutURL
}

// waitFor polls the page's location until cond holds.
func waitFor(t *testing.T, ctx context.Context, what string, cond func(location string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && cond(loc) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s (at %s)", what, loc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitJS polls a JavaScript condition on the page until it holds.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: not within 20s; the page: %s %v", what, page, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// On a computer: choosing WeChat Pay draws the attempt's code_url as a QR
// image; paying it at the simulator turns the page to success, and it lands
// on the merchant's return URL.
func TestBrowserCheckoutComputer(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn)
		ctx := browser(t, "", "en-US")
		returnURL := h.url + "/?returned=yes"
		id, link := checkoutURL(t, h, returnURL)
		if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "the aggregate QR code", `!!document.getElementById("aggregate-qr") && document.getElementById("aggregate-qr").complete`)
		waitJS(t, ctx, "the ways to pay: Alipay, WeChat Pay, AdaPay",
			`[...document.querySelectorAll(".methods a")].map(a => a.textContent).join() === "Alipay,WeChat Pay,Alipay (AdaPay)"`)
		if err := chromedp.Do(ctx, chromedp.Navigate(link+"?channel=wechat")); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "WeChat Pay's QR code", `!!document.getElementById("qr") && document.getElementById("qr").naturalWidth > 0`)
		src, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("qr").getAttribute("src")`))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "checkout")
		otn := h.lastOutTradeNo(id)
		p, err := h.app.Checkout.PaymentByOutTradeNo(context.Background(), otn)
		if err != nil || p.Channel != "wechat" || p.Gateway != "scan" {
			t.Fatalf("the page's attempt: %+v %v", p, err)
		}
		code := cashier.CredentialLink(p.Credential)
		want, _ := qrcode.Encode(code, qrcode.Medium, 240)
		if !strings.HasPrefix(code, "weixin://") || src != "data:image/png;base64,"+base64.StdEncoding.EncodeToString(want) {
			t.Fatalf("the QR image is not the code_url %q drawn", code)
		}
		if _, err := h.app.Simulators["wechat"].Pay(context.Background(), otn, true, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the page lands on the return URL", func(loc string) bool { return loc == returnURL })
		if o := h.order(id); o.Status != "paid" {
			t.Errorf("order %s", o.Status)
		}
	})
}

// On a phone: buttons that open the wap/H5 flows, no QR codes; in Chinese
// for a Chinese browser.
func TestBrowserCheckoutPhone(t *testing.T) {
	h := newHarness(t, "")
	ctx := browser(t, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "zh-CN")
	_, link := checkoutURL(t, h, "")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the ways to pay", `document.querySelectorAll(".methods a").length > 0`)
	// The page follows the order without reloading itself while it waits.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stayed = true`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // two rounds of the page's polling
	if stayed, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stayed === true`)); err != nil || !stayed {
		t.Errorf("the pending page reloaded itself (%v)", err)
	}
	screenshot(t, ctx, "checkout-phone")
	images, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	if err != nil || images != 0 {
		t.Errorf("the phone page has %d images (%v): want buttons, no QR codes", images, err)
	}
	if title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("h1").textContent`)); err != nil || title != "收银台" {
		t.Errorf("title %q (%v), want Chinese for a zh-CN browser", title, err)
	}
	next, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('a[href*="channel=wechat"]').href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(next)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the button that opens WeChat Pay", `!!document.getElementById("open")`)
	open, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("open").getAttribute("href")`))
	if err != nil || !strings.Contains(open, "/sandbox/wechat/h5/") || !strings.Contains(open, "redirect_url=") {
		t.Fatalf("WeChat on a phone opens %q (%v), want its H5 pay, sending the buyer back", open, err)
	}
	// Paying there and going back lands on the page, which says it is paid.
	if err := chromedp.Do(ctx, chromedp.Navigate(open)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "WeChat Pay's H5 page", `!!document.querySelector("button.pay")`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("button.pay").form.submit(), true`)); err != nil {
		t.Fatal(err)
	}
	back := `[...document.querySelectorAll("a")].find(a => a.textContent === "Back to the merchant")`
	waitJS(t, ctx, "the way back to the merchant", `!!`+back)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](back+`.href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(href)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the page says it is paid", `!!document.getElementById("state-paid") && !document.getElementById("state-paid").hidden`)
}

// The aggregate QR code's link: the Alipay app lands on Alipay's wap pay,
// WeChat on WeChat Pay's H5 pay, any other scanner on a page that says
// which apps can pay.
func TestBrowserAggregateQR(t *testing.T) {
	h := newHarness(t, "")
	_, link := checkoutURL(t, h, "")
	for _, c := range []struct{ ua, lands string }{
		{"Mozilla/5.0 (Linux; Android 14) AlipayClient/10.5.0", "/sandbox/alipay/gateway.do"},
		{"Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.50", "/sandbox/wechat/h5/"},
	} {
		ctx := browser(t, c.ua, "en-US")
		if err := chromedp.Do(ctx, chromedp.Navigate(link+"/scan")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, c.ua+" lands on "+c.lands, func(loc string) bool { return strings.Contains(loc, c.lands) })
	}
	ctx := browser(t, "", "en-US")
	if err := chromedp.Do(ctx, chromedp.Navigate(link+"/scan")); err != nil {
		t.Fatal(err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`)); err != nil || !strings.Contains(text, "Alipay or WeChat") {
		t.Errorf("another scanner sees %q", text)
	}
}

// The home page's "try a payment" places a demo order and opens its
// checkout page; paying it there (Alipay's page pay at the simulator)
// pays the order.
func TestBrowserTryAPayment(t *testing.T) {
	h := newHarness(t, "")
	ctx := browser(t, "", "en-US")
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the home page's button", `!!document.getElementById("try")`)
	screenshot(t, ctx, "home")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("try").click(), true`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the tried order's ways to pay", `location.pathname.startsWith("/checkout/") && document.querySelectorAll(".methods a").length > 0`)
	waitFor(t, ctx, "the checkout page", func(loc string) bool { return strings.Contains(loc, "/checkout/") })
	methods, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".methods a").length`))
	if err != nil || methods != 3 {
		t.Errorf("%d ways to pay on the tried order's page (%v)", methods, err)
	}
}

// The admin console: with the admin token pasted, an operator finds a paid
// order by id, reads it, and refunds part of it; the refund settles and
// the console shows the order partially refunded.
func TestBrowserAdminConsole(t *testing.T) {
	h := newHarness(t, "")
	h.startJobs()
	id, _ := h.mustBuy("app", nil)
	h.pay("alipay", h.lastOutTradeNo(id))
	ctx := browser(t, "", "en-US")
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/admin/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the console says where its token comes from", `document.getElementById("token-help").textContent.includes("admin_token")`)
	find := `(function(){ var f = document.getElementById("order-search"); f.elements.id.value = "` + id + `"; f.requestSubmit(); return true })()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){ var i = document.getElementById("token"); i.value = "`+h.app.AdminToken+`";
		i.dispatchEvent(new Event("change")); window.confirm = function(){ return true }; return true })()`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](find)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the order's detail", `document.getElementById("order-detail").textContent.includes("status paid")`)
	refund := `(function(){ var f = document.querySelector("#order-detail form.row"); f.elements.amount.value = "1.00";
		f.elements.reason.value = "browser test"; f.requestSubmit(); return true })()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](refund)); err != nil {
		t.Fatal(err)
	}
	eventuallyTrue(t, "the refund settles", func() bool { return h.order(id).Status == "partially_refunded" })
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](find)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the console shows the order partially refunded", `document.getElementById("order-detail").textContent.includes("status partially_refunded")`)
	screenshot(t, ctx, "admin")
}

// eventuallyTrue polls cond until it holds, for at most 20 seconds.
func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The API viewer renders /openapi.json: every operation, and the filter
// narrows them down; a result page is in the pages' style.
func TestBrowserDocsAndResult(t *testing.T) {
	h := newHarness(t, "")
	ctx := browser(t, "", "en-US")
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/docs")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the operations", `document.querySelectorAll("#ops details").length > 50`)
	filtered := `(function(){ var f = document.getElementById("filter"); f.value = "/order/apple/verify"; f.dispatchEvent(new Event("input"));
		return [...document.querySelectorAll("#ops details")].filter(d => !d.hidden).length })()`
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](filtered)); err != nil || n != 1 {
		t.Errorf("filtering by /order/apple/verify leaves %d operations (%v), want 1", n, err)
	}
	screenshot(t, ctx, "docs")
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/api/v1/order/return/alipay")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the result page", `document.querySelector("h1").textContent === "Payment not completed" && !!document.querySelector(".card")`)
}
