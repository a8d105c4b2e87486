package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// again turns a handler's answer into River's: run again after d, or done.
func again(d time.Duration, err error) error {
	if err != nil {
		return err
	}
	if d > 0 {
		return river.JobSnooze(d)
	}
	return nil
}

type expireOrderWorker struct {
	river.WorkerDefaults[expireOrderArgs]
	q *Queue
}

func (w *expireOrderWorker) Work(ctx context.Context, job *river.Job[expireOrderArgs]) error {
	return again(w.q.handlers.ExpireOrder(ctx, job.Args.OrderID))
}

type pollPaymentWorker struct {
	river.WorkerDefaults[pollPaymentArgs]
	q *Queue
}

func (w *pollPaymentWorker) Work(ctx context.Context, job *river.Job[pollPaymentArgs]) error {
	return again(w.q.handlers.PollPayment(ctx, job.Args.PaymentID, job.Attempt))
}

type processRefundWorker struct {
	river.WorkerDefaults[processRefundArgs]
	q *Queue
}

func (w *processRefundWorker) Work(ctx context.Context, job *river.Job[processRefundArgs]) error {
	return again(w.q.handlers.ProcessRefund(ctx, job.Args.RefundID, job.Attempt))
}

type deliverEventWorker struct {
	river.WorkerDefaults[deliverEventArgs]
	q *Queue
}

func (w *deliverEventWorker) Work(ctx context.Context, job *river.Job[deliverEventArgs]) error {
	return w.q.handlers.DeliverEvent(ctx, job.Args.EventID, job.Args.EndpointID, job.Attempt)
}

// NextRetry follows WebhookSchedule rather than River's default backoff.
func (w *deliverEventWorker) NextRetry(job *river.Job[deliverEventArgs]) time.Time {
	return w.q.now().Add(webhookDelay(job.Attempt))
}

// Every kind of job has its own timeout: a job still running past it is
// stopped, and one whose process died is run again once JobRescueAfter (in
// Config, longer than all of these) has passed.
const (
	expireTimeout  = 2 * time.Minute // closes each open attempt at its channel
	pollTimeout    = time.Minute     // one query
	refundTimeout  = time.Minute     // one refund call, or one query
	deliverTimeout = 30 * time.Second
	purgeTimeout   = 2 * time.Minute
)

// LongestTimeout is the longest any job may run.
const LongestTimeout = max(expireTimeout, pollTimeout, refundTimeout, deliverTimeout, purgeTimeout)

// DefaultRescueAfter is how long a job may run before it is taken to be
// stuck in a process that died, and run again.
const DefaultRescueAfter = 5 * time.Minute

func (w *expireOrderWorker) Timeout(*river.Job[expireOrderArgs]) time.Duration { return expireTimeout }

func (w *pollPaymentWorker) Timeout(*river.Job[pollPaymentArgs]) time.Duration { return pollTimeout }

func (w *processRefundWorker) Timeout(*river.Job[processRefundArgs]) time.Duration {
	return refundTimeout
}

// Timeout bounds one delivery: a slow receiver must not hold a worker.
func (w *deliverEventWorker) Timeout(*river.Job[deliverEventArgs]) time.Duration {
	return deliverTimeout
}

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	q *Queue
}

func (w *purgeWorker) Work(ctx context.Context, job *river.Job[purgeArgs]) error {
	return w.q.handlers.Purge(ctx)
}

func (w *purgeWorker) Timeout(*river.Job[purgeArgs]) time.Duration { return purgeTimeout }

type purgeInboundWorker struct {
	river.WorkerDefaults[purgeInboundArgs]
	q *Queue
}

func (w *purgeInboundWorker) Work(ctx context.Context, job *river.Job[purgeInboundArgs]) error {
	return w.q.handlers.PurgeRejected(ctx)
}

func (w *purgeInboundWorker) Timeout(*river.Job[purgeInboundArgs]) time.Duration { return purgeTimeout }
