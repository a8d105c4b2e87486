package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// shopReply is the shop API's envelope.
type shopReply struct {
	Status  int    `json:"-"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Result       json.RawMessage `json:"result"`
		OrderID      string          `json:"order_id"`
		OrderIDArray []string        `json:"order_id_array"`
	} `json:"data"`
	Raw json.RawMessage `json:"-"`
}

// shop posts a form to a shop endpoint as the seed's clients do.
func (h *harness) shop(path string, form url.Values) shopReply {
	h.t.Helper()
	return h.shopAs(h.token, path, form)
}

func (h *harness) shopAs(token, path string, form url.Values) shopReply {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r shopReply
	if err := json.Unmarshal(raw, &r); err != nil {
		h.t.Fatalf("%s: %d %s is not the shop envelope", path, resp.StatusCode, raw)
	}
	r.Status, r.Raw = resp.StatusCode, raw
	return r
}

// admin calls the admin API with a JSON body.
func (h *harness) admin(method, path string, body any) reply {
	h.t.Helper()
	b, _ := json.Marshal(body)
	return h.do(method, path, h.app.AdminToken, "application/json", bytes.NewReader(b))
}

// pay pays an attempt in the sandbox of its channel.
func (h *harness) pay(channel, outTradeNo string) {
	h.t.Helper()
	if channel == "wechat" {
		if status, out := h.wechatPay(outTradeNo, ""); status != 200 {
			h.t.Fatalf("wechat sandbox pay: %d %v", status, out)
		}
		return
	}
	if out := h.sandboxPay(outTradeNo, ""); out["notify_reply"] != "success" {
		h.t.Fatalf("alipay sandbox pay: %v", out)
	}
}

// stock reads a standard's stock from the products list.
func (h *harness) stock(standardID int64) int64 {
	h.t.Helper()
	var products []struct {
		Standards []struct {
			ID    int64 `json:"id"`
			Stock int64 `json:"stock"`
		} `json:"standards"`
	}
	json.Unmarshal(h.get("/api/v1/products", h.token).Data, &products)
	for _, p := range products {
		for _, s := range p.Standards {
			if s.ID == standardID {
				return s.Stock
			}
		}
	}
	h.t.Fatalf("standard %d not listed", standardID)
	return 0
}

// addToCart puts a standard in the demo user's cart and returns the line id.
func (h *harness) addToCart(productID, standardID, count string) string {
	h.t.Helper()
	r := h.post("/api/v1/cart/items", h.token, url.Values{"product_id": {productID}, "standard_id": {standardID}, "count": {count}})
	var item struct {
		ID int64 `json:"id"`
	}
	if r.Status != 200 || json.Unmarshal(r.Data, &item) != nil {
		h.t.Fatalf("add to cart: %d %s", r.Status, r.Message)
	}
	return itoa(item.ID)
}

func (h *harness) cartIDs() []int64 {
	h.t.Helper()
	var items []struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal(h.get("/api/v1/cart/items", h.token).Data, &items)
	ids := []int64{}
	for _, i := range items {
		ids = append(ids, i.ID)
	}
	return ids
}
