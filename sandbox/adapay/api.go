package adapay

import (
	"maps"
	"net/http"
	"strconv"
	"time"

	"cashier"
	"cashier/internal/chinatime"
)

// Answers are copies of the simulator's objects: they are encoded after the
// lock is released, while settling may change the objects.

// create places a payment; the same order_no again is the same payment.
func (s *AdaPay) create(r *http.Request, in map[string]string) (int, map[string]any) {
	switch {
	case in["app_id"] != s.AppID:
		return http.StatusOK, refusal("app_id_not_exists", "app_id is not the sandbox app")
	case in["pay_channel"] != "alipay_qr":
		return http.StatusOK, refusal("pay_channel_error", "the sandbox takes pay_channel alipay_qr")
	case in["order_no"] == "" || in["notify_url"] == "":
		return http.StatusOK, refusal("request_param_error", "order_no and notify_url are required")
	}
	if fen, err := cashier.ParseYuan(in["pay_amt"]); err != nil || fen <= 0 {
		return http.StatusOK, refusal("request_param_error", "pay_amt must be a positive yuan amount like 9.00")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payments {
		if p.orderNo == in["order_no"] {
			if p.amount != in["pay_amt"] {
				return http.StatusOK, refusal("order_no_used", "order_no "+in["order_no"]+" was used for another amount")
			}
			return http.StatusOK, maps.Clone(p.obj)
		}
	}
	if s.payments == nil {
		s.payments = map[string]*payment{}
	}
	id := newID(s.now())
	p := &payment{orderNo: in["order_no"], amount: in["pay_amt"], status: "pending", notify: in["notify_url"]}
	p.obj = map[string]any{"id": id, "object": "payment", "app_id": s.AppID, "order_no": p.orderNo, "pay_channel": "alipay_qr",
		"pay_amt": p.amount, "currency": "cny", "status": "pending", "prod_mode": "false",
		"created_time": strconv.FormatInt(s.now().Unix(), 10), "expend": map[string]any{"qrcode_url": s.BaseURL + "/qr/" + id}}
	s.payments[id] = p
	return http.StatusOK, maps.Clone(p.obj)
}

// query answers a payment.
func (s *AdaPay) query(r *http.Request, _ map[string]string) (int, map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[r.PathValue("id")]
	if !ok {
		return http.StatusOK, refusal("resource_not_exists", "支付对象不存在 (no such payment)")
	}
	return http.StatusOK, maps.Clone(p.obj)
}

// close closes a pending payment.
func (s *AdaPay) close(r *http.Request, _ map[string]string) (int, map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[r.PathValue("id")]
	switch {
	case !ok:
		return http.StatusOK, refusal("resource_not_exists", "支付对象不存在 (no such payment)")
	case p.status == "succeeded":
		return http.StatusOK, refusal("payment_status_error", "支付已成功，不能关单 (the payment is paid)")
	}
	p.setStatus("closed")
	return http.StatusOK, map[string]any{"id": newID(s.now()), "object": "close", "payment_id": r.PathValue("id"), "status": "succeeded"}
}

// refund takes a refund of a paid payment; it is made a minute later (Tick)
// or when SettlePendingRefunds says.
func (s *AdaPay) refund(r *http.Request, in map[string]string) (int, map[string]any) {
	fen, err := cashier.ParseYuan(in["refund_amt"])
	if err != nil || fen <= 0 || in["refund_order_no"] == "" {
		return http.StatusOK, refusal("request_param_error", "refund_order_no and a positive refund_amt are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	p, ok := s.payments[id]
	if !ok {
		return http.StatusOK, refusal("resource_not_exists", "支付对象不存在 (no such payment)")
	}
	for _, rf := range s.refunds {
		if rf.orderNo == in["refund_order_no"] {
			if rf.payment != id || rf.obj["refund_amt"] != in["refund_amt"] {
				return http.StatusOK, refusal("refund_order_no_used", "refund_order_no was used for another refund")
			}
			return http.StatusOK, maps.Clone(rf.obj)
		}
	}
	total, _ := cashier.ParseYuan(p.amount)
	switch {
	case p.status != "succeeded":
		return http.StatusOK, refusal("payment_status_error", "the payment is "+p.status+": nothing to refund")
	case p.refunded+fen > total:
		return http.StatusOK, refusal("refund_amt_error", "退款金额超过可退金额 (more than is left to refund)")
	}
	p.refunded += fen
	rf := &refund{payment: id, orderNo: in["refund_order_no"], notify: in["notify_url"], status: "pending", created: s.now()}
	rf.obj = map[string]any{"id": newID(s.now()), "object": "refund", "payment_id": id, "refund_order_no": rf.orderNo,
		"refund_amt": in["refund_amt"], "status": "pending", "created_time": strconv.FormatInt(s.now().Unix(), 10)}
	s.refunds = append(s.refunds, rf)
	return http.StatusOK, maps.Clone(rf.obj)
}

// refundList answers a payment's refunds (payment_id), with trans_status.
func (s *AdaPay) refundList(r *http.Request, in map[string]string) (int, map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.payments[in["payment_id"]]; !ok {
		return http.StatusOK, refusal("resource_not_exists", "支付对象不存在 (no such payment)")
	}
	list := []map[string]any{}
	for _, rf := range s.refunds {
		if rf.payment == in["payment_id"] {
			trans := map[string]string{"pending": "I", "succeeded": "S", "failed": "F"}[rf.status]
			list = append(list, map[string]any{"refund_id": rf.obj["id"], "refund_order_no": rf.orderNo,
				"refund_amt": rf.obj["refund_amt"], "trans_status": trans})
		}
	}
	return http.StatusOK, map[string]any{"status": "succeeded", "prod_mode": "false", "refunds": list}
}

// setStatus changes a payment's status, in its object too.
func (p *payment) setStatus(status string) {
	p.status = status
	p.obj["status"] = status
}

// endTime stamps a paid payment.
func (p *payment) endTime(now time.Time) {
	p.obj["end_time"] = chinatime.In(now).Format("20060102150405")
}
