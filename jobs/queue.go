// Package jobs runs cashier's background work on River: closing orders when
// they expire, asking channels about payments whose notification never came,
// refunds, and webhook deliveries. Work exists exactly when the change that
// causes it does: a refund's job is inserted in the transaction of the
// refund, and expiries, polls and deliveries are written by the change as
// rows the sweep turns into jobs (sweep.go). River keeps jobs across
// restarts and, on PostgreSQL, runs each once across many cashier instances.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cashier"
	"cashier/sqlstore"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Handlers do the work of each kind of job. A returned duration > 0 asks for
// the job to run again after it (polling); an error makes River retry with
// backoff.
type Handlers struct {
	ExpireOrder   func(ctx context.Context, orderID int64) (again time.Duration, err error)
	PollPayment   func(ctx context.Context, paymentID int64, attempt int) (again time.Duration, err error)
	ProcessRefund func(ctx context.Context, refundID int64, attempt int) (again time.Duration, err error)
	DeliverEvent  func(ctx context.Context, eventID string, endpointID int64, attempt int) error
	// Purge runs every hour: it forgets idempotency keys past their time.
	Purge func(ctx context.Context) error
	// PurgeRejected runs every hour: it deletes the notifications that
	// failed verification and are past their retention.
	PurgeRejected func(ctx context.Context) error
}

// Config configures a Queue.
type Config struct {
	Logger *slog.Logger
	// Now, when set, is the clock River schedules by (tests move it instead
	// of sleeping).
	Now func() time.Time
	// PollInterval is how often workers look for due jobs when not told;
	// default River's (1s).
	PollInterval time.Duration
	// SweepInterval is how often the rows are looked at for work that came
	// due (orders to close, attempts to ask about); default 1s, or
	// PollInterval when that is shorter.
	SweepInterval time.Duration
	Workers       int // concurrent jobs; default 10
	// RescueAfter is how long a job may stay running before it is taken to
	// belong to a process that died and is run again; default 5 minutes. It
	// must exceed LongestTimeout.
	RescueAfter time.Duration
}

// Queue inserts and works cashier's jobs.
type Queue struct {
	client   riverClient
	store    cashier.Store
	handlers Handlers
	now      func() time.Time
	log      *slog.Logger
	sweepGap time.Duration
	stop     context.CancelFunc
	swept    chan struct{} // closed when the sweeping loop ended
}

// riverClient hides the driver's transaction type (pgx.Tx or *sql.Tx).
type riverClient interface {
	insertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) error
	insertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

type typedClient[TTx any] struct{ *river.Client[TTx] }

func (c typedClient[TTx]) insertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) error {
	t, ok := tx.(TTx)
	if !ok {
		return fmt.Errorf("jobs: a %T is not this queue's transaction type", tx)
	}
	_, err := c.InsertTx(ctx, t, args, opts)
	return err
}

func (c typedClient[TTx]) insertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) error {
	t, ok := tx.(TTx)
	if !ok {
		return fmt.Errorf("jobs: a %T is not this queue's transaction type", tx)
	}
	_, err := c.InsertManyFastTx(ctx, t, params)
	return err
}

// New applies River's migrations to db and returns a Queue on it. Call Start
// to work jobs; an unstarted Queue still inserts them.
func New(ctx context.Context, db *sqlstore.DB, cfg Config) (*Queue, error) {
	q := &Queue{now: time.Now, store: db, log: cfg.Logger, sweepGap: cfg.SweepInterval}
	if cfg.Now != nil {
		q.now = cfg.Now
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.sweepGap <= 0 {
		q.sweepGap = DefaultSweepInterval
		if cfg.PollInterval > 0 {
			q.sweepGap = min(q.sweepGap, cfg.PollInterval)
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &expireOrderWorker{q: q})
	river.AddWorker(workers, &pollPaymentWorker{q: q})
	river.AddWorker(workers, &processRefundWorker{q: q})
	river.AddWorker(workers, &deliverEventWorker{q: q})
	river.AddWorker(workers, &purgeWorker{q: q})
	river.AddWorker(workers, &purgeInboundWorker{q: q})
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	if cfg.RescueAfter <= LongestTimeout {
		return nil, fmt.Errorf("jobs: RescueAfter %v must exceed the longest job timeout %v", cfg.RescueAfter, LongestTimeout)
	}
	rc := &river.Config{
		Logger: quietRiver(cfg.Logger),
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.Workers},
			webhookQueue:       {MaxWorkers: cfg.Workers},
		},
		Workers:              workers,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 100*time.Millisecond),
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           LongestTimeout,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return purgeArgs{}, nil }, nil),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return purgeInboundArgs{}, nil }, nil),
		},
	}
	if cfg.PollInterval <= 0 {
		rc.FetchPollInterval, rc.FetchCooldown = 0, 0
	}
	if cfg.Now != nil {
		rc.Test.Time = clock(cfg.Now)
		// River's cleaner measures how long finished jobs are kept by the
		// wall clock, while they were finished by cfg.Now: a clock set in
		// the past would have them deleted at once.
		keep := 100 * 365 * 24 * time.Hour
		rc.CompletedJobRetentionPeriod, rc.CancelledJobRetentionPeriod, rc.DiscardedJobRetentionPeriod = keep, keep, keep
	}
	var err error
	if pool := db.Pool(); pool != nil {
		q.client, err = newClient(ctx, riverpgxv5.New(pool), rc)
	} else {
		q.client, err = newClient(ctx, riversqlite.New(db.SQL()), rc)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

func newClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], rc *river.Config) (riverClient, error) {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: rc.Logger})
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return typedClient[TTx]{c}, nil
}

// Start works jobs with h, and sweeps for work that came due, until Stop.
func (q *Queue) Start(ctx context.Context, h Handlers) error {
	q.handlers = h
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	q.stop, q.swept = stop, make(chan struct{})
	go q.sweepEvery(sctx)
	return nil
}

// Stop finishes the jobs under way and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if q.stop != nil {
		q.stop()
		select {
		case <-q.swept:
		case <-ctx.Done():
		}
	}
	return q.client.Stop(ctx)
}

// driverTx is the driver's transaction under tx, which River's inserts
// join; nil outside a store transaction.
func driverTx(tx cashier.Tx) any {
	if dt, ok := tx.(interface{ DriverTx() any }); ok {
		return dt.DriverTx()
	}
	return nil
}

// insert adds a job to the transaction of tx.
func (q *Queue) insert(ctx context.Context, tx cashier.Tx, args river.JobArgs, at time.Time) error {
	dtx := driverTx(tx)
	if dtx == nil {
		return fmt.Errorf("jobs: %s must be scheduled inside a store transaction", args.Kind())
	}
	var opts *river.InsertOpts
	if !at.IsZero() {
		opts = &river.InsertOpts{ScheduledAt: at}
	}
	if err := q.client.insertTx(ctx, dtx, args, opts); err != nil {
		return fmt.Errorf("schedule %s: %w", args.Kind(), err)
	}
	return nil
}

// PollPayment schedules asking the channel about an attempt at at.
func (q *Queue) PollPayment(ctx context.Context, tx cashier.Tx, paymentID int64, at time.Time) error {
	return q.insert(ctx, tx, pollPaymentArgs{PaymentID: paymentID}, at)
}

// ProcessRefund schedules sending a refund to its channel now.
func (q *Queue) ProcessRefund(ctx context.Context, tx cashier.Tx, refundID int64) error {
	return q.insert(ctx, tx, processRefundArgs{RefundID: refundID}, time.Time{})
}

// DeliverEvent schedules delivering an event to one webhook endpoint now.
func (q *Queue) DeliverEvent(ctx context.Context, tx cashier.Tx, eventID string, endpointID int64) error {
	return q.insert(ctx, tx, deliverEventArgs{EventID: eventID, EndpointID: endpointID}, time.Time{})
}

// clock adapts a now function to River's time generator: River then schedules
// and fetches by it, so that tests can move time instead of sleeping.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

func (c clock) NowOrNil() *time.Time {
	t := c()
	return &t
}

var _ rivertype.TimeGenerator = clock(nil)
