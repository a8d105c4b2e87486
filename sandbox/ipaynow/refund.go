package ipaynow

import (
	"net/http"
	"strconv"

	"cashier/internal/chinatime"
	"cashier/internal/signing"
	"cashier/sandbox"
)

// serveRefund answers R001: a refund of a paid order, accepted (tradeStatus
// A004) and made when next asked about (Q001). Requests and answers are
// signed without signType.
func (s *IPayNow) serveRefund(w http.ResponseWriter, r *http.Request) {
	fields, refuse, ok := s.refundRequest(w, r, "R001", sandbox.OpRefund)
	if !ok {
		return
	}
	amount, err := strconv.ParseInt(fields["amount"], 10, 64)
	if err != nil || amount <= 0 || fields["mhtRefundNo"] == "" {
		refuse("R001", "mhtRefundNo and a positive amount in fen are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, known := s.orders[fields["mhtOrderNo"]]
	switch rf, again := s.refunds[fields["mhtRefundNo"]]; {
	case again && (rf.orderNo != fields["mhtOrderNo"] || rf.amount != amount):
		refuse("R001", "mhtRefundNo "+fields["mhtRefundNo"]+" was used for another refund")
	case again:
		writeForm(w, s.refundAnswer("R001", rf))
	case !known || o.status != "A001":
		refuse("R001", "订单不存在或未支付[order does not exist or is not paid]")
	case o.refunded+amount > o.amount:
		refuse("R001", "退款金额超过可退金额[refund exceeds what is left of the order]")
	default:
		if s.refunds == nil {
			s.refunds = map[string]*refund{}
		}
		rf := &refund{orderNo: fields["mhtOrderNo"], refundNo: fields["mhtRefundNo"], amount: amount, status: "A004"}
		s.refunds[rf.refundNo] = rf
		o.refunded += amount
		writeForm(w, s.refundAnswer("R001", rf))
	}
}

// serveRefundQuery answers Q001; a refund accepted before is made now.
func (s *IPayNow) serveRefundQuery(w http.ResponseWriter, r *http.Request) {
	fields, refuse, ok := s.refundRequest(w, r, "Q001", sandbox.OpRefundQuery)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rf, known := s.refunds[fields["mhtRefundNo"]]
	if !known {
		refuse("R001", "退款单不存在[refund does not exist]")
		return
	}
	rf.status = "A001"
	writeForm(w, s.refundAnswer("Q001", rf))
}

// refundRequest reads and checks an R001 or Q001 request, and applies the
// faults injected into op. ok is false when it has answered already.
func (s *IPayNow) refundRequest(w http.ResponseWriter, r *http.Request, funcode, op string) (fields map[string]string, refuse func(code, msg string), ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, sandbox.MaxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, nil, false
	}
	fields = formFields(r.PostForm)
	refuse = func(code, msg string) {
		writeForm(w, s.signAnswer(map[string]string{"funcode": funcode, "appId": s.AppID, "mhtOrderNo": fields["mhtOrderNo"],
			"mhtRefundNo": fields["mhtRefundNo"], "responseCode": code, "responseMsg": msg,
			"responseTime": chinatime.In(s.now()).Format(timeLayout)}, false))
	}
	if !signing.EqualHex(sign(s.AppKey, fields, "mhtSignature", "signType"), fields["mhtSignature"]) {
		refuse("R001", "签名验证失败[signature does not verify]")
		return nil, nil, false
	}
	if fields["appId"] != s.AppID || fields["funcode"] != funcode {
		refuse("R001", "appId or funcode is wrong")
		return nil, nil, false
	}
	if answered, _ := s.faults.Fail(w, r, op, refuse); answered {
		return nil, nil, false
	}
	return fields, refuse, true
}

// refundAnswer is the signed answer about a refund. s.mu is held.
func (s *IPayNow) refundAnswer(funcode string, rf *refund) map[string]string {
	o := s.orders[rf.orderNo]
	return s.signAnswer(map[string]string{"funcode": funcode, "appId": s.AppID, "mhtOrderNo": rf.orderNo,
		"mhtRefundNo": rf.refundNo, "nowPayOrderNo": o.nowPayOrderNo, "amount": strconv.FormatInt(rf.amount, 10),
		"mhtCharset": "UTF-8", "responseCode": "R000", "responseMsg": "成功", "tradeStatus": rf.status,
		"responseTime": chinatime.In(s.now()).Format(timeLayout)}, false)
}
