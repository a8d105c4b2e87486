package api

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"cashier"
	"cashier/checkout"
	"cashier/web"
)

// The checkout page (收银台) and what surrounds it: the link a merchant
// sends the buyer to, the page, its status, and its aggregate QR code.

// POST /api/v1/orders/{id}/checkout: the checkout page's link for a pending
// order of the user; return_url, optional, is where the page sends the
// buyer once paid (on an allowed origin).
func handleCheckoutLink(co *checkout.Service, links CheckoutLinks, publicURL string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		v, err := params(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		returnURL := strings.TrimSpace(v.Get("return_url"))
		if err := links.CheckReturnURL(returnURL); err != nil {
			writeError(w, r, log, err)
			return
		}
		o, err := co.Order(r.Context(), userID(r.Context()), id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if o.Status != cashier.OrderPending || o.Expired(co.Now()) {
			writeError(w, r, log, cashier.Errorf(cashier.ECONFLICT, "order %d is %s: there is nothing to pay", o.ID, orderState(o, co.Now())))
			return
		}
		expires := o.ExpiresAt.Add(checkoutLinger)
		token := links.Issue(o.ID, expires, returnURL)
		writeJSON(w, http.StatusOK, envelope{OrderID: idString(o.ID), Data: map[string]any{
			"checkout_url": strings.TrimSuffix(publicURL, "/") + "/checkout/" + token, "expires_at": expires.UTC(),
		}})
	})
}

// pageDeps is what the checkout pages need.
type pageDeps struct {
	co        *checkout.Service
	links     CheckoutLinks
	publicURL string
	sandbox   bool
	log       *slog.Logger
}

// isPhone says whether the page is for a phone: ?device=phone|computer,
// else the User-Agent.
func isPhone(r *http.Request) bool {
	switch r.URL.Query().Get("device") {
	case "phone":
		return true
	case "computer":
		return false
	}
	ua := r.UserAgent()
	for _, s := range []string{"Mobile", "Android", "iPhone", "iPad", "MicroMessenger", "AlipayClient"} {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

// qrImage is a QR code of link as a PNG data URI, for an <img>: typed as
// a URL that html/template may write (it refuses data: URIs otherwise).
func qrImage(link string) (template.URL, error) {
	png, err := qrcode.Encode(link, qrcode.Medium, 240)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

type methodView struct{ Label, Href string }

type chosenView struct {
	Label, ScanText, Link string
	QR                    template.URL
}

type checkoutView struct {
	Lang, Title                   string
	T                             pageText
	Subject, Amount               string
	OrderID, RemainingSeconds     int64
	State, Remaining              string
	StatusURL, BaseURL, SwitchURL string
	ReturnURL, Error              string
	AggregateQR                   template.URL
	Phone, Sandbox, Refresh       bool
	Methods                       []methodView
	Chosen                        *chosenView
}

// order reads the token of the request's path and loads its order; on
// failure it has answered.
func (d pageDeps) order(w http.ResponseWriter, r *http.Request) (*checkoutClaims, *cashier.Order, bool) {
	t := pageTexts[language(r)]
	cl, err := d.links.Read(r.PathValue("token"), d.co.Now())
	if err == nil {
		var o *cashier.Order
		if o, err = d.co.CheckoutOrder(r.Context(), cl.OrderID); err == nil {
			return cl, o, true
		}
	}
	web.Render(w, http.StatusNotFound, "problem", map[string]any{"Lang": language(r), "Title": t.NotFound, "Text": cashier.ErrorMessage(err)})
	return nil, nil, false
}

// state is the order as the page shows it.
func (d pageDeps) state(o *cashier.Order) string {
	switch {
	case o.Status == cashier.OrderPaid || o.Status == cashier.OrderFulfilled:
		return "paid"
	case o.Status == cashier.OrderClosed:
		return "closed"
	case o.Status == cashier.OrderPending && o.Expired(d.co.Now()):
		return "expired"
	case o.Status == cashier.OrderPending:
		return "pending"
	}
	return "other"
}

// GET /checkout/{token}[?channel=…][&device=phone|computer]: the page.
func (d pageDeps) handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl, o, ok := d.order(w, r)
		if !ok {
			return
		}
		lang := language(r)
		t := pageTexts[lang]
		phone := isPhone(r)
		base := "/checkout/" + r.PathValue("token")
		device := "computer"
		if phone {
			device = "phone"
		}
		other := map[string]string{"phone": "computer", "computer": "phone"}[device]
		v := checkoutView{Lang: lang, Title: t.Checkout, T: t, Subject: o.Subject, Amount: cashier.FormatYuan(o.Payable), OrderID: o.ID,
			State: d.state(o), Remaining: remaining(o.ExpiresAt.Sub(d.co.Now())), RemainingSeconds: max(int64(o.ExpiresAt.Sub(d.co.Now()).Seconds()), 0),
			StatusURL: base + "/status", BaseURL: base + "?device=" + device, SwitchURL: base + "?device=" + other,
			ReturnURL: cl.ReturnURL, Phone: phone, Sandbox: d.sandbox}
		if v.State == "pending" {
			methods := d.co.WebMethods(phone)
			chosen := r.URL.Query().Get("channel")
			for _, m := range methods {
				label := t.channelLabel(m.Channel)
				v.Methods = append(v.Methods, methodView{Label: label, Href: base + "?device=" + device + "&channel=" + url.QueryEscape(m.Channel)})
				if m.Channel != chosen {
					continue
				}
				link, err := d.co.WebAttempt(r.Context(), o.ID, m, clientIP(r))
				if err != nil {
					d.log.WarnContext(r.Context(), "checkout page: could not prepare a payment", "order_id", o.ID, "channel", m.Channel, "err", err)
					v.Error = t.CannotPay + " " + cashier.ErrorMessage(err)
					continue
				}
				if m.Return != "" {
					link = withParam(link, m.Return, strings.TrimSuffix(d.publicURL, "/")+base+"?device="+device)
				}
				c := &chosenView{Label: label, Link: link, ScanText: fmt.Sprintf(t.Scan, label)}
				if m.QR {
					if c.QR, err = qrImage(link); err != nil {
						v.Error = t.CannotPay + " " + err.Error()
						continue
					}
				}
				v.Chosen = c
			}
			if v.Chosen == nil && !phone {
				v.AggregateQR, _ = qrImage(strings.TrimSuffix(d.publicURL, "/") + base + "/scan")
			}
		}
		if err := web.Render(w, http.StatusOK, "checkout", v); err != nil {
			d.log.ErrorContext(r.Context(), "checkout page", "err", err)
		}
	})
}

// remaining is a countdown's first text, m:ss.
func remaining(d time.Duration) string {
	s := max(int(d.Seconds()), 0)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// GET /checkout/{token}/status: the order's status, for the page's polling.
func (d pageDeps) handleStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl, err := d.links.Read(r.PathValue("token"), d.co.Now())
		if err != nil {
			writeError(w, r, d.log, err)
			return
		}
		o, err := d.co.CheckoutOrder(r.Context(), cl.OrderID)
		if err != nil {
			writeError(w, r, d.log, err)
			return
		}
		writeOK(w, map[string]any{"status": o.Status, "state": d.state(o)})
	})
}

// GET /checkout/{token}/scan: where the aggregate QR code (聚合码) leads.
// Opened by the Alipay app it goes to Alipay's wap pay, by WeChat to
// WeChat Pay's H5 pay; any other scanner gets a page saying which apps can
// pay, with the checkout page's link.
func (d pageDeps) handleScan() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, o, ok := d.order(w, r)
		if !ok {
			return
		}
		page := "/checkout/" + r.PathValue("token")
		ua := r.UserAgent()
		app := ""
		switch {
		case strings.Contains(ua, "AlipayClient"):
			app = cashier.ChannelAlipay
		case strings.Contains(ua, "MicroMessenger"):
			app = cashier.ChannelWechat
		}
		if app != "" && d.state(o) == "pending" {
			for _, m := range d.co.WebMethods(true) {
				if m.Channel != app {
					continue
				}
				link, err := d.co.WebAttempt(r.Context(), o.ID, m, clientIP(r))
				if err == nil {
					http.Redirect(w, r, link, http.StatusFound)
					return
				}
				d.log.WarnContext(r.Context(), "aggregate QR: could not prepare a payment", "order_id", o.ID, "channel", app, "err", err)
			}
		}
		if app != "" {
			http.Redirect(w, r, page+"?device=phone", http.StatusFound)
			return
		}
		lang := language(r)
		web.Render(w, http.StatusOK, "scan", map[string]any{"Lang": lang, "Title": pageTexts[lang].Checkout, "T": pageTexts[lang],
			"Amount": cashier.FormatYuan(o.Payable), "PageURL": page + "?device=phone"})
	})
}

// GET /: what is running, where to go, and in the demo a button that
// tries a payment.
func handleHome(sandboxChannels []string, demo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := language(r)
		web.Render(w, http.StatusOK, "landing", map[string]any{"Lang": lang, "Title": "cashier", "T": pageTexts[lang],
			"Sandbox": demo, "SandboxChannels": strings.Join(sandboxChannels, ", ")})
	})
}

// POST /try (the demo only): a package order for the demo user, then its
// checkout page, which sends the buyer back home once paid.
func (d pageDeps) handleTry(demoUser string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods := d.co.WebMethods(false)
		if len(methods) == 0 {
			writeError(w, r, d.log, cashier.Errorf(cashier.EUNAVAILABLE, "no channel here can be paid from the checkout page"))
			return
		}
		p, err := d.co.BuyPackage(r.Context(), checkout.BuyPackageRequest{UserID: demoUser, Source: "try", PackageID: 1,
			PayRequest: checkout.PayRequest{Channel: methods[0].Channel, Gateway: methods[0].Gateway, ClientIP: clientIP(r)}})
		if err != nil {
			writeError(w, r, d.log, err)
			return
		}
		token := d.links.Issue(p.Order.ID, p.Order.ExpiresAt.Add(checkoutLinger), strings.TrimSuffix(d.publicURL, "/")+"/")
		http.Redirect(w, r, "/checkout/"+token, http.StatusSeeOther)
	})
}

// orderState is an order's status, or "expired" for a pending order past
// its expiry that no job has closed yet.
func orderState(o *cashier.Order, now time.Time) string {
	if o.Status == cashier.OrderPending && o.Expired(now) {
		return "expired"
	}
	return string(o.Status)
}

// withParam adds name=value to a link's query.
func withParam(link, name, value string) string {
	sep := "?"
	if strings.Contains(link, "?") {
		sep = "&"
	}
	return link + sep + name + "=" + url.QueryEscape(value)
}
