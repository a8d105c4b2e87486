package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"cashier"
	"cashier/checkout"
)

// The JSON shapes of API.md's resources. Amounts are integers in fen.

type orderJSON struct {
	ID          int64         `json:"id"`
	UserID      string        `json:"user_id"`
	Kind        string        `json:"kind"`
	Status      string        `json:"status"`
	Subject     string        `json:"subject"`
	Amount      int64         `json:"amount"`
	Discount    int64         `json:"discount"`
	Payable     int64         `json:"payable"`
	PaidAmount  int64         `json:"paid_amount"`
	Refunded    int64         `json:"refunded_amount"`
	Source      string        `json:"source"`
	CouponID    int64         `json:"coupon_id,omitempty"`
	CostOrderID int64         `json:"cost_order_id,omitempty"`
	Items       []itemJSON    `json:"items"`
	Address     any           `json:"address"`
	Payments    []paymentJSON `json:"payments"`
	Refunds     []refundJSON  `json:"refunds"`
	CreatedAt   time.Time     `json:"created_at"`
	ExpiresAt   time.Time     `json:"expires_at"`
	PaidAt      *time.Time    `json:"paid_at"`
	ClosedAt    *time.Time    `json:"closed_at,omitempty"`
}

type itemJSON struct {
	ID           int64      `json:"id"`
	PackageID    int64      `json:"package_id,omitempty"`
	ProductID    int64      `json:"product_id,omitempty"`
	StandardID   int64      `json:"standard_id,omitempty"`
	SchemeID     int64      `json:"scheme_id,omitempty"`
	DeliveryTime *time.Time `json:"delivery_time,omitempty"`
	Name         string     `json:"name"`
	UnitPrice    int64      `json:"unit_price"`
	Count        int64      `json:"count"`
	Amount       int64      `json:"amount"`
	Remarks      string     `json:"remarks"`
}

type paymentJSON struct {
	ID             int64      `json:"id"`
	OutTradeNo     string     `json:"out_trade_no"`
	Channel        string     `json:"channel"`
	Gateway        string     `json:"gateway"`
	Amount         int64      `json:"amount"`
	Status         string     `json:"status"`
	ChannelTradeNo string     `json:"channel_trade_no"`
	ProductID      string     `json:"product_id,omitempty"` // the App Store product an Apple attempt buys
	CreatedAt      time.Time  `json:"created_at"`
	PaidAt         *time.Time `json:"paid_at"`
}

type packageJSON struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Price          int64  `json:"price"`
	AppleProductID string `json:"apple_product_id"`
	Gold           int64  `json:"gold"`
	Diamond        int64  `json:"diamond"`
}

type couponJSON struct {
	ID        int64      `json:"id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name"`
	Discount  int64      `json:"discount"`
	MinAmount int64      `json:"min_amount"`
	ExpiresAt *time.Time `json:"expires_at"`
	Status    string     `json:"status"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toOrder(o *cashier.Order) orderJSON {
	j := orderJSON{
		ID: o.ID, UserID: o.UserID, Kind: string(o.Kind), Status: string(o.Status), Subject: o.Subject, Amount: o.Amount,
		Discount: o.Discount, Payable: o.Payable, PaidAmount: o.PaidAmount, Refunded: o.Refunded,
		Source: o.Source, CouponID: o.CouponID, CostOrderID: o.CostOrderID,
		Items: []itemJSON{}, Payments: []paymentJSON{}, Refunds: list(o.Refunds, toRefund),
		CreatedAt: o.CreatedAt.UTC(), ExpiresAt: o.ExpiresAt.UTC(), PaidAt: timePtr(o.PaidAt), ClosedAt: timePtr(o.ClosedAt),
	}
	for _, li := range o.Items {
		j.Items = append(j.Items, toItem(&li))
	}
	if o.Address != nil {
		j.Address = toAddress(o.Address)
	}
	for _, p := range o.Payments {
		j.Payments = append(j.Payments, toPayment(&p))
	}
	return j
}

func toPayment(p *cashier.Payment) paymentJSON {
	return paymentJSON{ID: p.ID, OutTradeNo: p.OutTradeNo, Channel: p.Channel, Gateway: p.Gateway, Amount: p.Amount,
		Status: string(p.Status), ChannelTradeNo: p.ChannelTradeNo, ProductID: p.ProductID, CreatedAt: p.CreatedAt.UTC(), PaidAt: timePtr(p.PaidAt)}
}

func toPackage(p *cashier.Package) packageJSON {
	return packageJSON{ID: p.ID, Name: p.Name, Price: p.Price, AppleProductID: p.AppleProductID, Gold: p.Gold, Diamond: p.Diamond}
}

func toCoupon(c *cashier.Coupon) couponJSON {
	return couponJSON{ID: c.ID, UserID: c.UserID, Name: c.Name, Discount: c.Discount, MinAmount: c.MinAmount,
		ExpiresAt: timePtr(c.ExpiresAt), Status: string(c.Status)}
}

// credentialData is what goes into the envelope's data for a payment: the
// channel's credential exactly as the channel built it.
func credentialData(c *cashier.Credential) any {
	if raw, ok := c.Value.(json.RawMessage); ok {
		return raw
	}
	return c.Value
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func toItem(li *cashier.LineItem) itemJSON {
	return itemJSON{ID: li.ID, PackageID: li.PackageID, ProductID: li.ProductID, StandardID: li.StandardID,
		SchemeID: li.SchemeID, DeliveryTime: timePtr(li.DeliveryTime), Name: li.Name, UnitPrice: li.UnitPrice,
		Count: li.Count, Amount: li.Total(), Remarks: li.Remarks}
}

type productJSON struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Standards []standardJSON `json:"standards"`
}

type standardJSON struct {
	ID        int64  `json:"id"`
	ProductID int64  `json:"product_id"`
	Name      string `json:"name"`
	Price     int64  `json:"price"`
	Stock     int64  `json:"stock"`
}

type schemeJSON struct {
	ID     int64  `json:"id"`
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	Price  int64  `json:"price"`
}

type cartItemJSON struct {
	ID         int64 `json:"id"`
	ProductID  int64 `json:"product_id"`
	StandardID int64 `json:"standard_id"`
	Count      int64 `json:"count"`
}

type addressJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Phone     string `json:"phone"`
	Region    string `json:"region"`
	Detail    string `json:"detail"`
	IsDefault bool   `json:"is_default"`
}

func toProduct(p *cashier.Product) productJSON {
	j := productJSON{ID: p.ID, Name: p.Name, Standards: []standardJSON{}}
	for i := range p.Standards {
		j.Standards = append(j.Standards, toStandard(&p.Standards[i]))
	}
	return j
}

func toStandard(st *cashier.Standard) standardJSON {
	return standardJSON{ID: st.ID, ProductID: st.ProductID, Name: st.Name, Price: st.Price, Stock: st.Stock}
}

func toScheme(sc *cashier.Scheme) schemeJSON {
	return schemeJSON{ID: sc.ID, UserID: sc.UserID, Name: sc.Name, Price: sc.Price}
}

func toCartItem(c *cashier.CartItem) cartItemJSON {
	return cartItemJSON{ID: c.ID, ProductID: c.ProductID, StandardID: c.StandardID, Count: c.Count}
}

func toAddress(a *cashier.Address) addressJSON {
	return addressJSON{ID: a.ID, Name: a.Name, Phone: a.Phone, Region: a.Region, Detail: a.Detail, IsDefault: a.IsDefault}
}

// list maps a slice to its JSON shapes; never null.
func list[T, J any](items []T, to func(*T) J) []J {
	out := make([]J, 0, len(items))
	for i := range items {
		out = append(out, to(&items[i]))
	}
	return out
}

type refundJSON struct {
	ID              int64      `json:"id"`
	OrderID         int64      `json:"order_id"`
	PaymentID       int64      `json:"payment_id"`
	OutRefundNo     string     `json:"out_refund_no"`
	Amount          int64      `json:"amount"`
	Reason          string     `json:"reason"`
	Status          string     `json:"status"`
	ChannelRefundNo string     `json:"channel_refund_no"`
	Detail          string     `json:"detail"`
	CreatedAt       time.Time  `json:"created_at"`
	SettledAt       *time.Time `json:"settled_at"`
}

func toRefund(r *cashier.Refund) refundJSON {
	return refundJSON{ID: r.ID, OrderID: r.OrderID, PaymentID: r.PaymentID, OutRefundNo: r.OutRefundNo, Amount: r.Amount,
		Reason: r.Reason, Status: string(r.Status), ChannelRefundNo: r.ChannelRefundNo, Detail: r.Detail,
		CreatedAt: r.CreatedAt.UTC(), SettledAt: timePtr(r.SettledAt)}
}

type webhookJSON struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"` // only when just created
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
}

func toWebhook(e *cashier.WebhookEndpoint) webhookJSON {
	events := e.Events
	if events == nil {
		events = []string{}
	}
	return webhookJSON{ID: e.ID, URL: e.URL, Events: events, CreatedAt: e.CreatedAt.UTC()}
}

type deliveryJSON struct {
	ID         int64     `json:"id"`
	EventID    string    `json:"event_id"`
	EndpointID int64     `json:"endpoint_id"`
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error"`
	DurationMS int64     `json:"duration_ms"`
	CreatedAt  time.Time `json:"created_at"`
}

func toDelivery(d *cashier.Delivery) deliveryJSON {
	return deliveryJSON{ID: d.ID, EventID: d.EventID, EndpointID: d.EndpointID, Attempt: d.Attempt, StatusCode: d.StatusCode,
		Error: d.Error, DurationMS: d.Duration.Milliseconds(), CreatedAt: d.CreatedAt.UTC()}
}

type inboundJSON struct {
	ID         int64               `json:"id"`
	Channel    string              `json:"channel"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Query      string              `json:"query"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"` // as received; not valid UTF-8 is shown with replacement characters
	RemoteAddr string              `json:"remote_addr"`
	ReceivedAt time.Time           `json:"received_at"`
	Outcome    string              `json:"outcome"`
	Detail     string              `json:"detail"`
	OutTradeNo string              `json:"out_trade_no"`
	Verified   bool                `json:"verified"`
	BodySize   int                 `json:"body_size"`
}

func toInbound(m *cashier.InboundMessage) inboundJSON {
	headers := m.Headers
	if headers == nil {
		headers = map[string][]string{}
	}
	return inboundJSON{ID: m.ID, Channel: m.Channel, Method: m.Method, Path: m.Path, Query: m.Query, Headers: headers,
		Body: strings.ToValidUTF8(string(m.Body), "\uFFFD"), RemoteAddr: m.RemoteAddr, ReceivedAt: m.ReceivedAt.UTC(),
		Outcome: m.Outcome, Detail: m.Detail, OutTradeNo: m.OutTradeNo, Verified: m.Verified, BodySize: m.BodySize}
}

type channelJSON struct {
	Name          string   `json:"name"`
	Enabled       bool     `json:"enabled"`
	Gateways      []string `json:"gateways"`
	TradeNoPrefix string   `json:"out_trade_no_prefix"`
	Query         bool     `json:"query"`
	Close         bool     `json:"close"`
	Refund        bool     `json:"refund"`
	Return        bool     `json:"browser_return"`
}

func toChannel(c *checkout.ChannelInfo) channelJSON {
	gws := c.Gateways
	if gws == nil {
		gws = []string{}
	}
	return channelJSON{Name: c.Name, Enabled: c.Enabled, Gateways: gws, TradeNoPrefix: c.TradeNoPrefix,
		Query: c.Query, Close: c.Close, Refund: c.Refund, Return: c.Return}
}
