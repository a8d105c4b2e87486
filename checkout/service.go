// Package checkout holds cashier's use cases: buying, paying and re-paying,
// cancelling, and applying what the channels report. It knows the domain and
// the store's interface, and no SQL, HTTP or channel protocol.
package checkout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"time"

	"cashier"
)

// Service runs the checkout use cases.
type Service struct {
	store      cashier.Store
	channels   map[string]cashier.Channel // the enabled ones
	registered []Registration             // every channel of this build
	urls       URLs
	jobs       Scheduler
	packages   packageCache
	orderTTL   time.Duration
	pollDelay  time.Duration
	autoRefund bool
	now        func() time.Time
	log        *slog.Logger
}

// Scheduler adds background work to a store transaction: the work exists
// exactly when the transaction commits.
type Scheduler interface {
	PollPayment(ctx context.Context, tx cashier.Tx, paymentID int64, at time.Time) error
	ProcessRefund(ctx context.Context, tx cashier.Tx, refundID int64) error
	DeliverEvent(ctx context.Context, tx cashier.Tx, eventID string, endpointID int64) error
}

// noJobs is the Scheduler of a Service without background work (some tests).
type noJobs struct{}

func (noJobs) PollPayment(context.Context, cashier.Tx, int64, time.Time) error { return nil }
func (noJobs) ProcessRefund(context.Context, cashier.Tx, int64) error          { return nil }
func (noJobs) DeliverEvent(context.Context, cashier.Tx, string, int64) error   { return nil }

// URLs tells channels where to send the buyer and the notifications.
type URLs interface {
	NotifyURL(channel string) string
	ReturnURL(channel string) string
}

// Config configures a Service.
type Config struct {
	Store    cashier.Store
	Channels []cashier.Channel // the enabled ones
	// Registered are all the channels of this build, enabled or not, in
	// the order of cashier's list.
	Registered []Registration
	URLs       URLs
	OrderTTL   time.Duration // how long an order stays payable; default 30 minutes
	Jobs       Scheduler     // background work; nil: none
	// PollDelay is how long after an attempt is created, without a
	// notification, its channel is first asked about it; default 2 minutes.
	PollDelay time.Duration
	// ManualLateRefunds leaves money that arrived for an order that no longer
	// needs it (late or double payments) for an operator to refund, instead
	// of refunding it at once.
	ManualLateRefunds bool
	Now               func() time.Time // default time.Now
	Logger            *slog.Logger
}

// Registration is what the service knows of a channel of cashier's list,
// whether or not this server enables it.
type Registration struct {
	Name          string
	TradeNoPrefix string // keeps out_trade_no readable in the channel's console
}

// DefaultPollDelay is how long an attempt waits for its notification before
// its channel is asked.
const DefaultPollDelay = 2 * time.Minute

// DefaultOrderTTL is how long an unpaid order stays payable by default.
const DefaultOrderTTL = 30 * time.Minute

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{
		store:      cfg.Store,
		channels:   map[string]cashier.Channel{},
		registered: cfg.Registered,
		urls:       cfg.URLs,
		jobs:       cfg.Jobs,
		orderTTL:   cfg.OrderTTL,
		pollDelay:  cfg.PollDelay,
		autoRefund: !cfg.ManualLateRefunds,
		now:        cfg.Now,
		log:        cfg.Logger,
	}
	if s.jobs == nil {
		s.jobs = noJobs{}
	}
	if s.pollDelay <= 0 {
		s.pollDelay = DefaultPollDelay
	}
	for _, ch := range cfg.Channels {
		s.channels[ch.Name()] = ch
	}
	if s.orderTTL <= 0 {
		s.orderTTL = DefaultOrderTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Channel returns the enabled channel with the given name. A channel of
// this build that the configuration leaves out, and a channel of the order
// API not built yet, are 503; any other name is 400.
func (s *Service) Channel(name string) (cashier.Channel, error) {
	if ch, ok := s.channels[name]; ok {
		return ch, nil
	}
	if _, ok := s.registration(name); ok {
		return nil, cashier.Errorf(cashier.EUNAVAILABLE, "channel %q is not enabled on this server", name)
	}
	if slices.Contains(cashier.OrderAPIChannels(), name) {
		return nil, cashier.Errorf(cashier.EUNAVAILABLE, "channel %q is not available on this server yet", name)
	}
	if name == "" {
		return nil, cashier.Errorf(cashier.EINVALID, "channel is required")
	}
	names := make([]string, len(s.registered))
	for i, r := range s.registered {
		names[i] = r.Name
	}
	return nil, cashier.Errorf(cashier.EINVALID, "unknown channel %q: use one of %v", name, names)
}

func (s *Service) registration(name string) (Registration, bool) {
	for _, r := range s.registered {
		if r.Name == name {
			return r, true
		}
	}
	return Registration{}, false
}

// Channels lists the channels of this build with whether each is enabled,
// for operators.
func (s *Service) Channels() []ChannelInfo {
	out := make([]ChannelInfo, len(s.registered))
	for i, r := range s.registered {
		out[i] = ChannelInfo{Name: r.Name, TradeNoPrefix: r.TradeNoPrefix}
		if ch, ok := s.channels[r.Name]; ok {
			out[i].Enabled, out[i].Gateways = true, ch.Gateways()
			_, out[i].Query = ch.(cashier.Querier)
			_, out[i].Close = ch.(cashier.Closer)
			_, out[i].Refund = ch.(cashier.Refunder)
			_, out[i].Return = ch.(cashier.ReturnVerifier)
		}
	}
	return out
}

// ChannelInfo is a channel as operators see it.
type ChannelInfo struct {
	Name          string
	TradeNoPrefix string
	Enabled       bool
	Gateways      []string
	// The channel's capabilities: it can be asked about a trade, close one,
	// refund, verify a browser's return.
	Query, Close, Refund, Return bool
}

// channelGateway checks a channel and gateway pair before anything is written.
func (s *Service) channelGateway(name, gateway string) (cashier.Channel, error) {
	ch, err := s.Channel(name)
	if err != nil {
		return nil, err
	}
	if gc, ok := ch.(cashier.GatewayChecker); ok {
		return ch, gc.CheckGateway(gateway)
	}
	return ch, cashier.CheckGateway(ch, gateway)
}

// newOutTradeNo returns a fresh out_trade_no: the channel's prefix, UTC time
// to the second and 10 random digits — at most 28 characters, within every
// channel's limit, and unique across databases that share one merchant
// account.
func (s *Service) newOutTradeNo(channel string, now time.Time) (string, error) {
	r, _ := s.registration(channel)
	n, err := rand.Int(rand.Reader, big.NewInt(1e10))
	if err != nil {
		return "", fmt.Errorf("out_trade_no: %w", err)
	}
	return fmt.Sprintf("%s%s%010d", r.TradeNoPrefix, now.UTC().Format("20060102150405"), n.Int64()), nil
}

func newEventID() string {
	var b [12]byte
	rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// Inbound returns a recorded inbound message.
func (s *Service) Inbound(ctx context.Context, id int64) (m *cashier.InboundMessage, err error) {
	err = s.store.View(ctx, func(tx cashier.Tx) error {
		m, err = tx.Inbound(ctx, id)
		return err
	})
	return m, err
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }
