package sqlstore_test

import (
	"context"
	"testing"

	"cashier"
	"cashier/sqlstore/storetest"
)

// Operators search all orders and the inbound message log, newest first.
func TestSearches(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		must(t, db.Update(ctx, func(tx cashier.Tx) error {
			for _, u := range []string{"u1", "u2", "u1"} {
				if err := tx.InsertOrder(ctx, newOrder(u)); err != nil {
					return err
				}
			}
			for i, otn := range []string{"ALI1", "WX2", "ALI1"} {
				ch := "alipay"
				if otn == "WX2" {
					ch = "wechat"
				}
				m := &cashier.InboundMessage{Channel: ch, Method: "POST", Path: "/n", Body: []byte{byte(i)}, ReceivedAt: t0, OutTradeNo: otn}
				if i == 2 {
					m.Outcome, m.Detail = cashier.InboundRejected, "bad"
				}
				if err := tx.InsertInbound(ctx, m); err != nil {
					return err
				}
			}
			return nil
		}))
		must(t, db.View(ctx, func(tx cashier.Tx) error {
			all, err := tx.Orders(ctx, cashier.OrderFilter{})
			if err != nil || len(all) != 3 || all[0].ID != 3 {
				t.Errorf("all orders: %d, %v", len(all), err)
			}
			mine, _ := tx.Orders(ctx, cashier.OrderFilter{UserID: "u1"})
			if len(mine) != 2 {
				t.Errorf("u1's orders: %d", len(mine))
			}
			none, _ := tx.OrdersByUser(ctx, "", cashier.OrderFilter{})
			if len(none) != 0 {
				t.Errorf("an empty user id saw %d orders", len(none))
			}
			msgs, err := tx.InboundMessages(ctx, cashier.InboundFilter{OutTradeNo: "ALI1"})
			if err != nil || len(msgs) != 2 || msgs[0].ID != 3 || msgs[0].Outcome != cashier.InboundRejected {
				t.Errorf("by out_trade_no: %+v, %v", msgs, err)
			}
			if msgs, _ := tx.InboundMessages(ctx, cashier.InboundFilter{Channel: "wechat"}); len(msgs) != 1 {
				t.Errorf("by channel: %d", len(msgs))
			}
			if msgs, _ := tx.InboundMessages(ctx, cashier.InboundFilter{Outcome: cashier.InboundRejected}); len(msgs) != 1 {
				t.Errorf("by outcome: %d", len(msgs))
			}
			if msgs, _ := tx.InboundMessages(ctx, cashier.InboundFilter{BeforeID: 3, Limit: 1}); len(msgs) != 1 || msgs[0].ID != 2 {
				t.Errorf("paging: %+v", msgs)
			}
			return nil
		}))
	})
}
