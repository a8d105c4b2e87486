package jobs

import (
	"context"
	"fmt"
	"time"

	"cashier"

	"github.com/riverqueue/river"
)

// Creating an order writes no job: the order's expires_at and the attempt's
// poll_at are the schedule, and a sweep turns the rows that came due into
// jobs, a batch per statement. Paying one writes its event (the outbox) and
// no delivery job: the sweep relays the new events to the webhook endpoints
// that want them. That keeps River's inserts (and their indexes) off the
// request path, and spends them only on the orders left unpaid and on the
// deliveries that exist.

// DefaultSweepInterval is how often due work is looked for: an order is
// closed at most this long after its expiry, plus the time to fetch its job.
const DefaultSweepInterval = time.Second

// sweepBatch is how many rows one sweep transaction claims per kind.
const sweepBatch = 500

// sweepEvery sweeps until ctx ends.
func (q *Queue) sweepEvery(ctx context.Context) {
	defer close(q.swept)
	t := time.NewTicker(q.sweepGap)
	defer t.Stop()
	for {
		if _, err := q.Sweep(ctx); err != nil && ctx.Err() == nil {
			q.log.ErrorContext(ctx, "could not schedule due work", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep schedules the jobs of every order whose expiry passed, every
// attempt whose poll time came and every webhook delivery of the events
// written since the last sweep, and returns how many it scheduled. Each
// batch is claimed and scheduled in one transaction.
func (q *Queue) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		n, full := 0, false
		err := q.store.Update(ctx, func(tx cashier.Tx) error {
			now := q.now()
			expiring, seen, err := tx.ClaimDueExpiries(ctx, now, sweepBatch)
			if err != nil {
				return err
			}
			polls, err := tx.ClaimDuePolls(ctx, now, sweepBatch)
			if err != nil {
				return err
			}
			events, err := tx.ClaimUndispatchedEvents(ctx, sweepBatch)
			if err != nil {
				return err
			}
			full = seen == sweepBatch || len(polls) == sweepBatch || len(events) == sweepBatch
			params := make([]river.InsertManyParams, 0, len(expiring)+len(polls)+len(events))
			for _, id := range expiring {
				params = append(params, river.InsertManyParams{Args: expireOrderArgs{OrderID: id}})
			}
			for _, id := range polls {
				params = append(params, river.InsertManyParams{Args: pollPaymentArgs{PaymentID: id}})
			}
			if len(events) > 0 {
				endpoints, err := tx.WebhookEndpoints(ctx)
				if err != nil {
					return err
				}
				for _, ev := range events {
					for _, e := range endpoints {
						if e.Wants(ev.Type) {
							params = append(params, river.InsertManyParams{Args: deliverEventArgs{EventID: ev.ID, EndpointID: e.ID}})
						}
					}
				}
			}
			n = len(params)
			if n == 0 {
				return nil
			}
			return q.insertMany(ctx, tx, params)
		})
		total += n
		if err != nil || !full {
			return total, err
		}
	}
}

// insertMany adds jobs to the transaction of tx, in one statement.
func (q *Queue) insertMany(ctx context.Context, tx cashier.Tx, params []river.InsertManyParams) error {
	dtx := driverTx(tx)
	if dtx == nil {
		return fmt.Errorf("jobs: jobs must be scheduled inside a store transaction")
	}
	if err := q.client.insertManyTx(ctx, dtx, params); err != nil {
		return fmt.Errorf("schedule %d jobs: %w", len(params), err)
	}
	return nil
}
