package wechat

import (
	"context"
	"fmt"

	"cashier"
)

// Query asks WeChat Pay about the attempt out_trade_no, for when its
// notification never came. A trade WeChat Pay does not know (the buyer never
// opened it) is ENOTFOUND.
func (w *WeChat) Query(ctx context.Context, t cashier.Trade) (*cashier.Notification, error) {
	outTradeNo := t.OutTradeNo
	if err := checkOutTradeNo(outTradeNo); err != nil {
		return nil, err
	}
	if w.version == 3 {
		return w.queryV3(ctx, outTradeNo)
	}
	return w.queryV2(ctx, outTradeNo)
}

// Close closes the attempt out_trade_no at WeChat Pay, so that it can no
// longer be paid. A trade WeChat Pay does not know, or has closed already,
// cannot be paid either: no error. A trade already paid is ECONFLICT.
func (w *WeChat) Close(ctx context.Context, t cashier.Trade) error {
	outTradeNo := t.OutTradeNo
	if err := checkOutTradeNo(outTradeNo); err != nil {
		return err
	}
	if w.version == 3 {
		return w.closeV3(ctx, outTradeNo)
	}
	return w.closeV2(ctx, outTradeNo)
}

// closed maps the outcome of a close call, either version. Which codes v3
// answers to closing a paid or closed trade is not settled by the public
// documentation; both spellings are accepted.
func (w *WeChat) closed(outTradeNo string, err error) error {
	if err == nil {
		return nil
	}
	apiErr, ok := asAPIError(err)
	switch {
	case !ok:
		return err
	case apiErr.is(CodeOrderPaid):
		return cashier.WrapError(apiErr, cashier.ECONFLICT, fmt.Sprintf("WeChat Pay cannot close trade %s: it is paid", outTradeNo))
	case apiErr.is(CodeOrderNotExist, CodeOrderNotExistV3, CodeOrderClosed, CodeOrderClosedV3):
		return nil
	default:
		return err
	}
}
