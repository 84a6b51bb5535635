package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/db"
	"resolutioncenter/webhook"
)

// devKeyFile is the development webhook secret key's file name, kept beside the
// embedded database (or in data/ with PostgreSQL).
const devKeyFile = "webhook-secret.key"

// startWebhooks builds webhook delivery: the secret key, the service (installed as the
// database's outbox, so every change enqueues its deliveries in its transaction) and,
// unless WEBHOOK_WORKERS is 0, its delivery workers.
func (a *App) startWebhooks(ctx context.Context, cfg Config, tracer trace.Tracer) (*webhook.Service, error) {
	sealer, err := a.webhookSealer(cfg)
	if err != nil {
		return nil, err
	}
	bg, err := a.DB.Background(ctx, cfg.WebhookDBConns)
	if err != nil {
		return nil, err
	}
	if bg != a.DB {
		a.onClose(func() { bg.Close() })
	}
	s, err := webhook.New(bg, sealer, cfg.Policy(), webhook.Options{
		Dev: cfg.DevMode, Timeout: cfg.WebhookTimeout, Workers: cfg.WebhookWorkers, RetryBase: cfg.WebhookRetryBase,
		EndpointConcurrency: cfg.WebhookEndpointConcurrency, EndpointRate: cfg.WebhookEndpointRate,
		PollInterval: cfg.WebhookPollInterval, MaxEndpoints: cfg.WebhookMaxEndpoints, Logger: a.logger, Tracer: tracer,
		Metrics: webhook.NewMetrics(a.Metrics.Registry), Now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	a.onClose(a.DB.SetOutbox(s))
	if cfg.WebhookWorkers > 0 {
		runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		if err := s.Start(runCtx); err != nil {
			stop()
			return nil, err
		}
		a.stopWebhooks = func(ctx context.Context) {
			s.Stop(ctx)
			stop()
		}
	} else if cfg.SweepInterval > 0 {
		// This process does not deliver, but as it sweeps (its background work on the
		// database) it reports the outbox's backlog too: were every delivery process down,
		// the gauges would otherwise read nothing while the backlog grows. A process that
		// neither delivers nor sweeps runs no statement of its own.
		wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		s.WatchBacklog(wctx)
		a.onClose(stop)
	}
	return s, nil
}

// webhookSealer returns the key that encrypts signing secrets: WEBHOOK_SECRET_KEY, or
// in development mode a generated key kept in a file; nil (webhooks off) otherwise.
func (a *App) webhookSealer(cfg Config) (*webhook.Sealer, error) {
	if cfg.WebhookSecretKey != "" {
		key, err := webhook.ParseKey(cfg.WebhookSecretKey)
		if err != nil {
			return nil, err
		}
		return webhook.NewSealer(key)
	}
	if !cfg.DevMode {
		a.logger.Warn("webhooks are off: WEBHOOK_SECRET_KEY is not set (endpoints cannot be created)")
		return nil, nil
	}
	dir := "data"
	if a.DB.Engine == db.SQLite {
		dir = filepath.Dir(strings.TrimPrefix(a.DB.URL, "sqlite:"))
	}
	path := filepath.Join(dir, devKeyFile)
	key, created, err := webhook.DevKey(path)
	if err != nil {
		return nil, fmt.Errorf("webhook development key: %w", err)
	}
	if created {
		fmt.Fprintf(cfg.Out, "development mode: generated a webhook secret key in %s (set WEBHOOK_SECRET_KEY in production)\n", path)
	}
	return webhook.NewSealer(key)
}
