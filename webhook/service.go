package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// Options are the settings of webhook delivery (each an app setting).
type Options struct {
	// Dev is development mode: http and loopback endpoints are allowed.
	Dev bool
	// Timeout bounds one attempt: a 2xx within it is success (default 10 s).
	Timeout time.Duration
	// Workers is how many delivery jobs (one per change: its deliveries to every
	// endpoint) this process runs at once (default 200). A job mostly waits (for its
	// claim and record batches, for the receiver), and River fetches at most ten times a
	// second, each fetch filling the free slots: a process runs at most about ten times
	// Workers jobs a second. At 50 that capped delivery near 500 changes a second, below
	// what one process commits, and deliveries fell behind (p99 lag 6 to 9 s).
	Workers int
	// RetryBase is the first retry's delay; each next one doubles, up to 12 h, with
	// ±20% jitter (default 5 s).
	RetryBase time.Duration
	// RetryFor is how long a delivery is retried after its change (default 72 h).
	RetryFor time.Duration
	// DisableAfter disables an endpoint whose attempts have all failed for this long
	// (default 120 h).
	DisableAfter time.Duration
	// EndpointConcurrency bounds the requests this process has open to one endpoint
	// (default 10); EndpointRate the requests per second it sends one endpoint
	// (0: unlimited).
	EndpointConcurrency int
	EndpointRate        float64
	// PollInterval is how often workers look for due jobs besides being woken by new
	// ones (default 1 s; retries and snoozed jobs are found this way).
	PollInterval time.Duration
	// MaxEndpoints is how many endpoints one company may have, and how many
	// platform-wide ones there may be (default 20): every change of a case writes a
	// delivery to each of its company's and the platform's endpoints in its own
	// transaction, so they bound that write.
	MaxEndpoints int

	Logger *slog.Logger
	Tracer trace.Tracer
	// Metrics, when set, receives the delivery metrics.
	Metrics *Metrics
	// Now is the clock (default time.Now).
	Now func() time.Time

	// jobTimeout, when set, replaces River's job timeout (tests).
	jobTimeout time.Duration
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 200
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 5 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 72 * time.Hour
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 120 * time.Hour
	}
	if o.EndpointConcurrency <= 0 {
		o.EndpointConcurrency = 10
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.MaxEndpoints <= 0 {
		o.MaxEndpoints = DefaultMaxEndpoints
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// DefaultMaxEndpoints is Options.MaxEndpoints's default (Stripe allows 16 endpoints
// per account).
const DefaultMaxEndpoints = 20

// queue is the River queue deliveries run on.
const queue = "webhooks"

// batchRunners is how many claim (and record) batches run at once; batchMax bounds a
// batch's deliveries.
const (
	batchRunners = 2
	batchMax     = 200
)

// recordTimeout bounds a batch of attempt records. A record given up on leaves attempts
// that were made unlogged, and their deliveries are sent again once their leases run out
// (while a late record is safe: it changes a delivery only while it holds the lease the
// attempt was sent under), so records wait for a slow database much longer than an
// attempt waits for its endpoint.
const recordTimeout = 30 * time.Second

// maxJobAttempts bounds how often River itself retries a delivery job whose run
// failed (the database was unavailable, the process died): the delivery's own retry
// schedule is kept in its outbox row and the job snoozes between attempts, which
// River does not count.
const maxJobAttempts = 50

// Service is webhook delivery: the outbox (Enqueue, called by db inside every change),
// the River client that runs delivery jobs, the HTTP client, the endpoint and
// redelivery operations, and the metrics.
type Service struct {
	db     *db.DB
	sealer *Sealer // nil when no key is configured: endpoints cannot be created
	policy *dispute.Policy
	opts   Options
	client *http.Client
	river  *river.Client[*sql.Tx]
	limits *limits
	// shares keeps one company's jobs from taking every worker.
	shares *shares
	// endpoints caches endpoints for the workers (endpointTTL).
	endpoints endpointCache
	// timelines caches the events of the payloads of recent changes, by case.
	timelines timelines
	// claims and records batch the workers' claims and attempt records.
	claims  *batcher[db.DeliveryRef, db.Claim]
	records *batcher[db.AttemptResult, struct{}]
	// stopBatchers ends the batchers' runners (after River stopped).
	stopBatchers context.CancelFunc
	batchers     sync.WaitGroup

	stopOnce sync.Once
	started  bool
}

// ErrNoKey is what endpoint operations answer when no WEBHOOK_SECRET_KEY is set.
var ErrNoKey = &dispute.Error{Code: dispute.CodeUnavailable,
	Message: "webhooks are not configured on this server: set WEBHOOK_SECRET_KEY"}

// New builds the service on d. sealer may be nil (no key configured): deliveries of
// existing endpoints then fail and new endpoints are refused.
func New(d *db.DB, sealer *Sealer, policy *dispute.Policy, opts Options) (*Service, error) {
	opts.defaults()
	s := &Service{db: d, sealer: sealer, policy: policy, opts: opts,
		client: NewClient(opts.Timeout, opts.Dev), limits: newLimits(opts.EndpointConcurrency, opts.EndpointRate),
		shares: newShares(opts.Workers)}
	lease := opts.Timeout + 5*time.Second
	s.claims = newBatcher(batchMax, opts.Timeout, func(ctx context.Context, refs []db.DeliveryRef) ([]db.Claim, error) {
		return d.ClaimWebhookDeliveries(ctx, refs, s.now(), lease)
	})
	s.records = newBatcher(batchMax, max(opts.Timeout, recordTimeout), func(ctx context.Context, list []db.AttemptResult) ([]struct{}, error) {
		return nil, d.RecordWebhookAttempts(ctx, list)
	})
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{s: s}); err != nil {
		return nil, err
	}
	// A job sends at most maxChain deliveries (each bounded by Timeout) per run, and
	// starts a round only while the run has time for a whole one (roundLimit), so that
	// River's timeout does not cut an attempt.
	jobTimeout := time.Duration(maxChain)*opts.Timeout + 10*time.Second
	if opts.jobTimeout > 0 {
		jobTimeout = opts.jobTimeout
	}
	cfg := &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: opts.Workers}},
		Workers: workers,
		// River's default: at most 10 fetches a second, each taking as many due jobs as
		// there are free workers, and at most 10 insert notifications a second from the
		// changes' transactions.
		FetchCooldown:        min(100*time.Millisecond, opts.PollInterval),
		FetchPollInterval:    opts.PollInterval,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: jobTimeout + 10*time.Second,
		MaxAttempts:          maxJobAttempts,
		Logger:               opts.Logger.With("component", "river"),
		// Completed jobs are only a wake-up: the outbox row is the record.
		CompletedJobRetentionPeriod: time.Hour,
		TestOnly:                    false,
	}
	rc, err := river.NewClient(d.QueueDriver(), cfg)
	if err != nil {
		return nil, fmt.Errorf("webhook: queue client: %w", err)
	}
	s.river = rc
	return s, nil
}

// Start starts the delivery workers (until Stop).
func (s *Service) Start(ctx context.Context) error {
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.claims.start(bctx, batchRunners, &s.batchers)
	s.records.start(bctx, batchRunners, &s.batchers)
	s.stopBatchers = stop
	if err := s.river.Start(ctx); err != nil {
		stop()
		s.batchers.Wait()
		return fmt.Errorf("webhook: start workers: %w", err)
	}
	s.started = true
	if s.opts.Metrics != nil {
		go s.opts.Metrics.watchBacklog(ctx, s.db, s.backlogInterval(), s.river.Stopped())
	}
	return nil
}

// WatchBacklog keeps the backlog gauges (rc_webhook_pending,
// rc_webhook_oldest_pending_seconds) fresh until ctx ends, on a process that does not
// deliver (Start is not called; WEBHOOK_WORKERS=0; app runs it where the process
// sweeps): the backlog is the whole outbox's, and it grows fastest when no process
// delivers, which is when the API processes alone are left to report it. Start does
// the same on a delivering process.
func (s *Service) WatchBacklog(ctx context.Context) {
	if s.opts.Metrics != nil {
		go s.opts.Metrics.watchBacklog(ctx, s.db, s.backlogInterval(), nil)
	}
}

// backlogInterval is how often the backlog gauges are read: every ten polls, at most
// every 10 s (a query over the pending deliveries' index each time).
func (s *Service) backlogInterval() time.Duration {
	return min(10*time.Second, 10*s.opts.PollInterval)
}

// Stop lets running deliveries finish within ctx, then cancels them (their leases
// expire and another worker retries them).
func (s *Service) Stop(ctx context.Context) {
	s.stopOnce.Do(func() {
		if !s.started {
			return
		}
		if err := s.river.Stop(ctx); err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				s.opts.Logger.Warn("webhook: stopping workers", "err", err)
			}
			// Time is up: cancel what still runs (its leases expire; another run retries).
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.river.StopAndCancel(cctx)
			cancel()
		}
		s.stopBatchers()
		s.batchers.Wait()
	})
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }
