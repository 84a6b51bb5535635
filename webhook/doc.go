// Package webhook sends every committed change of a case to the company's own
// backend as a signed webhook (Standard Webhooks: webhook-id, webhook-timestamp,
// webhook-signature), from a transactional outbox.
//
// The outbox: db calls Service.Enqueue inside the transaction of every change (db's
// change(), where opening, every action, deadline transitions and chargeback records
// end). Enqueue writes one webhook_messages row (the case as the change committed it,
// shared by the change's deliveries), one webhook_deliveries row per subscribed
// endpoint and event type, and one River job for the change, through the same *sql.Tx
// (River's transactional insert; its database/sql driver on PostgreSQL and its SQLite
// driver on the embedded database, both checked to work here with pgx and the pure-Go
// modernc SQLite). A committed change therefore always has its deliveries and job; a
// rolled-back one has none.
//
// Delivery: River runs the jobs on any server process (several share the work), on a
// connection pool of their own (db.Background). A job sends its change's deliveries,
// each endpoint a lane, in rounds: a round claims the next delivery of every lane, sends
// them at once and records the attempts. The claims and records of the jobs running at
// the same moment are merged into batches (batch.go: whatever queued while the previous
// batch ran, no timer), each one statement on PostgreSQL (db.ClaimWebhookDeliveries,
// db.RecordWebhookAttempts), so a burst of changes costs a few statements rather than a
// few per delivery. The retry schedule and the delivery state live in the outbox rows,
// not in River's job: each delivery is claimed with a lease (its row locked, then
// leased if free and due), sent, and its attempt recorded; the job then snoozes until
// the earliest pending delivery is due. The lease is what keeps one delivery from being
// sent twice at once by two processes (River's own guarantee does not cover a job
// rescued from a process that still runs); a process killed mid-delivery leaves a lease
// that expires, after which the next job of the case, or River's rescuer re-running the
// job, sends the delivery again with the same webhook-id (at least once). A claim takes
// the earliest pending delivery of the case to the endpoint first, so one case's
// deliveries reach an endpoint in commit order. This small amount of coordination is
// hand-written because River has no per-key ordering and its unique jobs cannot express
// "one in flight per delivery" across a process that may still run.
//
// The payload's data is the case as its company sees it through the API, built with
// the API's own converters (graph/model) and visibility rule (dispute.VisibleEvents);
// schema/payload.schema.json documents it and the tests validate every delivery
// against it. Its 50 latest visible events come from a per-process cache when the
// process committed the case's previous change itself (timeline.go: events never
// change, so that timeline plus the change's own event is the new one), and are read in
// the transaction otherwise.
//
// Safety: see safety.go (https only, connect-time address checks against private,
// loopback, link-local and metadata ranges, no redirects, capped bodies, timeouts) and
// limits.go (per-endpoint concurrency and rate). Secrets are stored encrypted with
// AES-256-GCM (crypt.go), because signing needs them in clear.
//
// SendTest (ping.go) sends an endpoint one signed webhook_endpoint.test request on
// demand, the way a delivery goes but outside the outbox: not retried, not logged.
//
// webhook imports db, dispute, ids and graph/model of this module.
package webhook
