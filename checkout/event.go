package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cashier"
)

// insertEvent writes an outbox event in the transaction of the change it
// reports. Its webhook deliveries are scheduled by the jobs' sweep, which
// relays each new event once (jobs.Sweep).
func (s *Service) insertEvent(ctx context.Context, tx cashier.Tx, typ string, orderID int64, at time.Time, data map[string]any) error {
	id := newEventID()
	payload, err := json.Marshal(map[string]any{"id": id, "type": typ, "created_at": at.UTC(), "data": data})
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	return tx.InsertEvent(ctx, &cashier.Event{ID: id, Type: typ, OrderID: orderID, Payload: payload, CreatedAt: at})
}

// scheduleDeliveries schedules delivering an event again to every endpoint
// that wants it (an operator's resend).
func (s *Service) scheduleDeliveries(ctx context.Context, tx cashier.Tx, eventID, typ string) error {
	endpoints, err := tx.WebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		if e.Wants(typ) {
			if err := s.jobs.DeliverEvent(ctx, tx, eventID, e.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
