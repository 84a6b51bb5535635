-- Webhooks: endpoints a company (or the platform, for every company) registers, the
-- transactional outbox (written in the transaction that commits a change: one message
-- per change holding the case as committed, one delivery per endpoint and event type),
-- and every attempt to deliver one. The job queue's own tables (river_*) are created by its migrator.
CREATE TABLE webhook_endpoints (
    id                    text PRIMARY KEY,
    company_id            text REFERENCES companies (id),
    url                   text NOT NULL,
    description           text,
    event_types           text NOT NULL,
    secret_enc            text NOT NULL,
    old_secret_enc        text,
    old_secret_expires_at TIMESTAMP,
    disabled_at           TIMESTAMP,
    disabled_reason       text,
    failing_since         TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX webhook_endpoints_company_idx ON webhook_endpoints (company_id);
--bun:split
CREATE TABLE webhook_messages (
    case_id             text NOT NULL,
    position            integer NOT NULL,
    company_id          text NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    data                text NOT NULL,
    previous_attributes text,
    PRIMARY KEY (case_id, position)
);
--bun:split
CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    company_id       text NOT NULL,
    case_id          text NOT NULL,
    position         integer NOT NULL,
    ordinal          integer NOT NULL,
    event_type       text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP,
    lease_until      TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP,
    last_status_code integer,
    last_error       text
);
--bun:split
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, case_id, position, ordinal);
--bun:split
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
--bun:split
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (created_at) WHERE status = 'pending';
--bun:split
CREATE TABLE webhook_attempts (
    id               text PRIMARY KEY,
    delivery_id      text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     TIMESTAMP NOT NULL,
    success          boolean NOT NULL,
    status_code      integer,
    latency_ms       integer NOT NULL,
    response_excerpt text,
    error            text
);
--bun:split
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);
