package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cashier"
	"cashier/checkout"
)

// The shop API of seed 000, kept for the shop's existing clients: form fields
// as the seed has them, and its own envelope {"code": 200, "message":
// "生成订单成功", "data": {…}}. Errors carry the HTTP status as code (never 200).
// It is a facade over the same checkout use cases as the order API.

const shopCreated = "生成订单成功"

type shopEnvelope struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
	Data    any    `json:"data"`
}

// shopOrder is the data of a shop call that created or re-paid an order.
type shopOrder struct {
	Result       any      `json:"result"` // the channel's credential, as the order API's data
	OrderID      string   `json:"order_id"`
	OrderIDArray []string `json:"order_id_array,omitempty"` // cart checkout, for old clients
}

func writeShopError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := cashier.ErrorCode(err)
	status := statusOf(code)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, shopEnvelope{Code: status, Message: cashier.ErrorMessage(err), Error: code})
}

func writeShopOrder(w http.ResponseWriter, p *checkout.Purchase, cart bool) {
	id := idString(p.Order.ID)
	data := shopOrder{Result: credentialData(p.Credential), OrderID: id}
	if cart {
		data.OrderIDArray = []string{id}
	}
	writeJSON(w, http.StatusOK, shopEnvelope{Code: http.StatusOK, Message: shopCreated, Data: data})
}

// shopPay maps the seed's pay_type and trade_type onto a channel and gateway:
// APP → app; NATIVE → WeChat scan, Alipay PC web; MWEB → wap.
func shopPay(r *http.Request, v url.Values) (checkout.PayRequest, error) {
	pay := checkout.PayRequest{Channel: strings.TrimSpace(v.Get("pay_type")), ClientIP: clientIP(r)}
	switch pay.Channel {
	case cashier.ChannelAlipay, cashier.ChannelWechat:
	case "":
		return pay, cashier.Errorf(cashier.EINVALID, "pay_type is required: wechat or alipay")
	default:
		return pay, cashier.Errorf(cashier.EINVALID, "unknown pay_type %q: use wechat or alipay", truncate(pay.Channel, 32))
	}
	switch tt := strings.ToUpper(strings.TrimSpace(v.Get("trade_type"))); tt {
	case "", "APP":
		pay.Gateway = "app"
	case "NATIVE":
		pay.Gateway = "scan"
		if pay.Channel == cashier.ChannelAlipay {
			pay.Gateway = "web"
		}
	case "MWEB":
		pay.Gateway = "wap"
	default:
		return pay, cashier.Errorf(cashier.EINVALID, "unknown trade_type %q: use APP, NATIVE or MWEB", truncate(tt, 32))
	}
	return pay, nil
}

// cartArray parses the seed's cart_array: [{"cart_id":259,"user_remarks":""}],
// with cart_id a number or a numeric string.
func cartArray(v url.Values) ([]checkout.CartLine, error) {
	raw := strings.TrimSpace(v.Get("cart_array"))
	if raw == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "cart_array is required")
	}
	var lines []struct {
		CartID  json.Number `json:"cart_id"`
		Remarks string      `json:"user_remarks"`
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	bad := cashier.Errorf(cashier.EINVALID, `cart_array must be a JSON array like [{"cart_id":259,"user_remarks":""}]`)
	if err := dec.Decode(&lines); err != nil || endOfJSON(dec) != nil {
		return nil, bad
	}
	out := make([]checkout.CartLine, 0, len(lines))
	for _, l := range lines {
		id, err := strconv.ParseInt(l.CartID.String(), 10, 64)
		if err != nil || id <= 0 {
			return nil, bad
		}
		if err := checkText("cart_array user_remarks", l.Remarks); err != nil {
			return nil, err
		}
		out = append(out, checkout.CartLine{CartID: id, Remarks: l.Remarks})
	}
	return out, nil
}

func remarks(v url.Values) (string, error) {
	s := strings.TrimSpace(v.Get("user_remarks"))
	if len([]rune(s)) > 500 {
		return "", cashier.Errorf(cashier.EINVALID, "user_remarks is longer than 500 characters")
	}
	return s, nil
}

// shopHandler reads the parameters and the pay request, and answers with the
// shop envelope; fn does the rest.
func shopHandler(log *slog.Logger, cart bool, fn func(r *http.Request, v url.Values, pay checkout.PayRequest) (*checkout.Purchase, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := params(r)
		if err != nil {
			writeShopError(w, r, log, err)
			return
		}
		pay, err := shopPay(r, v)
		if err != nil {
			writeShopError(w, r, log, err)
			return
		}
		p, err := fn(r, v, pay)
		if err != nil {
			writeShopError(w, r, log, err)
			return
		}
		writeShopOrder(w, p, cart)
	})
}

// POST /api/ShopPay/productCharge: product_id, standard_id, count, pay_type,
// trade_type, area_id, user_remarks.
func handleProductCharge(co *checkout.Service, log *slog.Logger) http.Handler {
	return shopHandler(log, false, func(r *http.Request, v url.Values, pay checkout.PayRequest) (*checkout.Purchase, error) {
		ids, err := requiredIDs(v, "product_id", "standard_id", "count", "area_id")
		if err != nil {
			return nil, err
		}
		rem, err := remarks(v)
		if err != nil {
			return nil, err
		}
		return co.BuyProduct(r.Context(), checkout.ProductOrderRequest{UserID: userID(r.Context()), ProductID: ids[0],
			StandardID: ids[1], Count: ids[2], AddressID: ids[3], Remarks: rem, PayRequest: pay})
	})
}

// POST /api/ShopPay/shoppingCartCharge: cart_array, pay_type, trade_type, area_id.
func handleCartCharge(co *checkout.Service, log *slog.Logger) http.Handler {
	return shopHandler(log, true, func(r *http.Request, v url.Values, pay checkout.PayRequest) (*checkout.Purchase, error) {
		lines, err := cartArray(v)
		if err != nil {
			return nil, err
		}
		area, err := requiredID(v, "area_id")
		if err != nil {
			return nil, err
		}
		return co.CheckoutCart(r.Context(), checkout.CartOrderRequest{UserID: userID(r.Context()), Lines: lines,
			AddressID: area, PayRequest: pay})
	})
}

// POST /api/CustomizedPay/buildOrder: scheme_id, count, delivery_time (unix
// seconds), pay_type, trade_type, area_id, user_remarks.
func handleBuildOrder(co *checkout.Service, log *slog.Logger) http.Handler {
	return shopHandler(log, false, func(r *http.Request, v url.Values, pay checkout.PayRequest) (*checkout.Purchase, error) {
		ids, err := requiredIDs(v, "scheme_id", "count", "delivery_time", "area_id")
		if err != nil {
			return nil, err
		}
		rem, err := remarks(v)
		if err != nil {
			return nil, err
		}
		if ids[2] > 1e11 {
			return nil, cashier.Errorf(cashier.EINVALID, "delivery_time must be unix seconds")
		}
		return co.BuildCustomized(r.Context(), checkout.SchemeOrderRequest{UserID: userID(r.Context()), SchemeID: ids[0],
			Count: ids[1], DeliveryTime: time.Unix(ids[2], 0).UTC(), AddressID: ids[3], Remarks: rem, PayRequest: pay})
	})
}

// POST /api/ShopPay/orderCharge: order_id, pay_type, trade_type — pay any
// pending order again, customized ones included, as often as needed.
func handleOrderCharge(co *checkout.Service, log *slog.Logger) http.Handler {
	return shopHandler(log, false, func(r *http.Request, v url.Values, pay checkout.PayRequest) (*checkout.Purchase, error) {
		id, err := requiredID(v, "order_id")
		if err != nil {
			return nil, err
		}
		return co.Pay(r.Context(), userID(r.Context()), id, pay)
	})
}

// settlementJSON is the checkout page's data.
type settlementJSON struct {
	Items       []itemJSON   `json:"items"`
	Amount      int64        `json:"amount"`
	Payable     int64        `json:"payable"`
	Address     *addressJSON `json:"address"`
	AddressNote string       `json:"address_message,omitempty"`
}

// POST /api/ShopPay/settlement: the checkout page for a product (product_id,
// standard_id, count), a cart selection (cart_array) or a scheme (scheme_id,
// count).
func handleSettlement(co *checkout.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := params(r)
		if err != nil {
			writeShopError(w, r, log, err)
			return
		}
		user := userID(r.Context())
		var st *checkout.Settlement
		switch {
		case v.Get("cart_array") != "":
			var lines []checkout.CartLine
			if lines, err = cartArray(v); err == nil {
				st, err = co.SettleCart(r.Context(), user, lines)
			}
		case v.Get("scheme_id") != "":
			var ids []int64
			if ids, err = requiredIDs(v, "scheme_id", "count"); err == nil {
				st, err = co.SettleScheme(r.Context(), user, ids[0], ids[1])
			}
		case v.Get("product_id") != "":
			var ids []int64
			if ids, err = requiredIDs(v, "product_id", "standard_id", "count"); err == nil {
				st, err = co.SettleProduct(r.Context(), user, ids[0], ids[1], ids[2])
			}
		default:
			err = cashier.Errorf(cashier.EINVALID, "settle what? send product_id, standard_id and count; or cart_array; or scheme_id and count")
		}
		if err != nil {
			writeShopError(w, r, log, err)
			return
		}
		data := settlementJSON{Items: list(st.Items, toItem), Amount: st.Amount, Payable: st.Payable, AddressNote: st.AddressNote}
		if st.Address != nil {
			a := toAddress(st.Address)
			data.Address = &a
		}
		writeJSON(w, http.StatusOK, shopEnvelope{Code: http.StatusOK, Message: "结算信息", Data: data})
	})
}
