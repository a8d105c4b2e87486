package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cashier"
)

// insertEvent writes an outbox event in the transaction of the change it reports.
func insertEvent(ctx context.Context, tx cashier.Tx, typ string, orderID int64, at time.Time, data map[string]any) error {
	id := newEventID()
	payload, err := json.Marshal(map[string]any{"id": id, "type": typ, "created_at": at.UTC(), "data": data})
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	return tx.InsertEvent(ctx, &cashier.Event{ID: id, Type: typ, OrderID: orderID, Payload: payload, CreatedAt: at})
}
