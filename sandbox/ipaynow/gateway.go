package ipaynow

import (
	"net/http"
	"strconv"
	"time"

	"cashier/internal/chinatime"
	"cashier/internal/signing"
	"cashier/sandbox"
)

// serveGateway answers WP001 (an H5 order) and MQ002 (a query), told apart
// by funcode, as iPayNow's one endpoint does.
func (s *IPayNow) serveGateway(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, sandbox.MaxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	fields := formFields(r.PostForm)
	refuse := func(code, msg string) {
		writeForm(w, s.signAnswer(map[string]string{"funcode": fields["funcode"], "appId": s.AppID,
			"mhtOrderNo": fields["mhtOrderNo"], "responseCode": code, "responseMsg": msg,
			"responseTime": chinatime.In(s.now()).Format(timeLayout)}, true))
	}
	if !signing.EqualHex(sign(s.AppKey, fields, "mhtSignature"), fields["mhtSignature"]) {
		refuse("A002", "E001#签名验证失败[signature does not verify]")
		return
	}
	if fields["appId"] != s.AppID {
		refuse("A002", "E002#应用不存在[appId is not the sandbox app]")
		return
	}
	op := map[string]string{"WP001": sandbox.OpPrepare, "MQ002": sandbox.OpQuery}[fields["funcode"]]
	if op == "" {
		refuse("A002", "E003#funcode "+fields["funcode"]+" is not simulated")
		return
	}
	answered, f := s.faults.Fail(w, r, op, refuse)
	if answered {
		return
	}
	if f.ForgedAnswer {
		w = s.forging(w)
	}
	if fields["funcode"] == "MQ002" {
		s.answerQuery(w, fields, refuse)
		return
	}
	s.placeH5(w, fields, refuse)
}

const timeLayout = "20060102150405"

// placeH5 takes an H5 order (deviceType 0601) and answers its link, tn: a
// page of the simulator.
func (s *IPayNow) placeH5(w http.ResponseWriter, fields map[string]string, refuse func(code, msg string)) {
	if fields["deviceType"] != "0601" {
		refuse("A002", "E004#deviceType "+fields["deviceType"]+": WP001 calls are H5 orders (0601)")
		return
	}
	o, msg := s.place(fields)
	if o == nil {
		refuse("A002", msg)
		return
	}
	writeForm(w, s.signAnswer(map[string]string{"funcode": "WP001", "version": "1.0.0", "appId": s.AppID,
		"mhtOrderNo": fields["mhtOrderNo"], "nowPayOrderNo": o.nowPayOrderNo, "responseCode": "A001",
		"responseMsg": "E000#成功[成功]", "responseTime": chinatime.In(s.now()).Format(timeLayout),
		"tn": s.BaseURL + "/h5/" + o.nowPayOrderNo}, true))
}

// place records an order, once; the same number again must be the same
// order. It answers the order, or why not.
func (s *IPayNow) place(fields map[string]string) (*order, string) {
	amount, err := strconv.ParseInt(fields["mhtOrderAmt"], 10, 64)
	if err != nil || amount <= 0 || fields["mhtOrderNo"] == "" || fields["notifyUrl"] == "" {
		return nil, "E005#mhtOrderNo, mhtOrderAmt and notifyUrl are required"
	}
	start, err := chinatime.Parse(timeLayout, fields["mhtOrderStartTime"])
	if err != nil {
		return nil, "E006#mhtOrderStartTime is not yyyyMMddHHmmss"
	}
	timeout, err := strconv.Atoi(fields["mhtOrderTimeOut"])
	if err != nil || timeout < 60 || timeout > 3600 {
		timeout = 3600
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders = map[string]*order{}
	}
	if o, ok := s.orders[fields["mhtOrderNo"]]; ok {
		if o.amount != amount {
			return nil, "E007#mhtOrderNo " + fields["mhtOrderNo"] + " was placed for another amount"
		}
		return o, ""
	}
	o := &order{fields: fields, amount: amount, status: "A004", nowPayOrderNo: nowPayOrderNo(s.now()),
		expires: start.Add(time.Duration(timeout) * time.Second)}
	s.orders[fields["mhtOrderNo"]] = o
	return o, ""
}

// answerQuery answers MQ002: the order, if the simulator has it under that
// deviceType.
func (s *IPayNow) answerQuery(w http.ResponseWriter, fields map[string]string, refuse func(code, msg string)) {
	s.mu.Lock()
	o, ok := s.orders[fields["mhtOrderNo"]]
	var ans map[string]string
	if ok && o.fields["deviceType"] == fields["deviceType"] {
		ans = s.orderFields(o, "MQ002")
		ans["responseCode"], ans["responseMsg"] = "A001", "E000#成功[成功]"
		ans["responseTime"] = chinatime.In(s.now()).Format(timeLayout)
	}
	s.mu.Unlock()
	if ans == nil {
		refuse("A002", "E008#订单不存在[order does not exist]")
		return
	}
	writeForm(w, s.signAnswer(ans, true))
}

// orderFields are what N001 and MQ002 say of an order. s.mu is held.
func (s *IPayNow) orderFields(o *order, funcode string) map[string]string {
	f := map[string]string{
		"funcode": funcode, "version": "1.0.0", "appId": s.AppID, "mhtOrderNo": o.fields["mhtOrderNo"],
		"mhtOrderName": o.fields["mhtOrderName"], "mhtOrderType": o.fields["mhtOrderType"], "mhtCurrencyType": "156",
		"oriMhtOrderAmt": strconv.FormatInt(o.amount, 10), "mhtOrderAmt": strconv.FormatInt(o.amount, 10), "discountAmt": "0",
		"mhtOrderTimeOut": o.fields["mhtOrderTimeOut"], "mhtOrderStartTime": o.fields["mhtOrderStartTime"],
		"mhtCharset": "UTF-8", "nowPayOrderNo": o.nowPayOrderNo, "deviceType": o.fields["deviceType"],
		"payChannelType": o.fields["payChannelType"], "transStatus": o.status,
	}
	if o.status == "A001" {
		f["payTime"] = chinatime.In(o.paid).Format(timeLayout)
		f["channelOrderNo"] = "4200" + o.nowPayOrderNo[4:]
		f["payConsumerId"] = "sandbox-buyer"
	}
	return f
}
