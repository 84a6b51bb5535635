-- The resolution center schema on PostgreSQL. Money is integer minor units; times are timestamptz (UTC).
CREATE TABLE companies (
    id         text PRIMARY KEY,
    title      text NOT NULL,
    route      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
--bun:split
CREATE TABLE users (
    id         text PRIMARY KEY,
    name       text,
    username   text NOT NULL UNIQUE,
    email      text NOT NULL,
    created_at timestamptz NOT NULL
);
--bun:split
CREATE TABLE team_members (
    company_id text NOT NULL REFERENCES companies (id),
    user_id    text NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, company_id)
);
--bun:split
CREATE TABLE memberships (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id),
    company_id  text NOT NULL REFERENCES companies (id),
    status      text NOT NULL CHECK (status IN ('active', 'canceled')),
    created_at  timestamptz NOT NULL,
    canceled_at timestamptz
);
--bun:split
CREATE INDEX memberships_user_idx ON memberships (user_id, company_id);
--bun:split
CREATE TABLE payments (
    id              text PRIMARY KEY,
    user_id         text NOT NULL REFERENCES users (id),
    company_id      text NOT NULL REFERENCES companies (id),
    membership_id   text REFERENCES memberships (id),
    currency        text NOT NULL,
    total           bigint NOT NULL CHECK (total > 0),
    subtotal        bigint CHECK (subtotal >= 0 AND subtotal <= total),
    refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= total),
    status          text NOT NULL CHECK (status IN ('paid', 'refunded')),
    paid_at         timestamptz,
    refunded_at     timestamptz,
    created_at      timestamptz NOT NULL
);
--bun:split
CREATE INDEX payments_user_idx ON payments (user_id, created_at);
--bun:split
CREATE INDEX payments_company_idx ON payments (company_id, created_at);
--bun:split
CREATE TABLE resolutions (
    id                text PRIMARY KEY,
    status            text NOT NULL,
    issue             text NOT NULL,
    company_id        text NOT NULL REFERENCES companies (id),
    user_id           text NOT NULL REFERENCES users (id),
    payment_id        text NOT NULL UNIQUE REFERENCES payments (id),
    member_id         text REFERENCES memberships (id),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    due_date          timestamptz,
    customer_appealed boolean NOT NULL DEFAULT false,
    merchant_appealed boolean NOT NULL DEFAULT false,
    outcome           text,
    refund            text,
    decided_by        text,
    info_requests     integer NOT NULL DEFAULT 0,
    payment_refunded  boolean NOT NULL DEFAULT false,
    version           integer NOT NULL DEFAULT 1,
    event_count       integer NOT NULL DEFAULT 0
);
--bun:split
CREATE INDEX resolutions_created_idx ON resolutions (created_at, id);
--bun:split
CREATE INDEX resolutions_due_idx ON resolutions (due_date, id);
--bun:split
CREATE INDEX resolutions_company_created_idx ON resolutions (company_id, created_at, id);
--bun:split
CREATE INDEX resolutions_company_due_idx ON resolutions (company_id, due_date, id);
--bun:split
CREATE INDEX resolutions_user_created_idx ON resolutions (user_id, created_at, id);
--bun:split
CREATE INDEX resolutions_user_due_idx ON resolutions (user_id, due_date, id);
--bun:split
CREATE INDEX resolutions_status_due_idx ON resolutions (status, due_date, id);
--bun:split
CREATE INDEX resolutions_status_created_idx ON resolutions (status, created_at, id);
--bun:split
CREATE INDEX resolutions_issue_created_idx ON resolutions (issue, created_at, id);
--bun:split
CREATE INDEX resolutions_outcome_created_idx ON resolutions (outcome, created_at, id) WHERE outcome IS NOT NULL;
--bun:split
CREATE TABLE resolution_events (
    seq                  bigserial UNIQUE,
    id                   text PRIMARY KEY,
    resolution_id        text NOT NULL REFERENCES resolutions (id),
    position             integer NOT NULL,
    action               text NOT NULL,
    reporter_type        text NOT NULL,
    details              text,
    from_status          text NOT NULL,
    to_status            text NOT NULL,
    viewable_by_customer boolean NOT NULL,
    viewable_by_merchant boolean NOT NULL,
    created_at           timestamptz NOT NULL,
    UNIQUE (resolution_id, position)
);
--bun:split
CREATE TABLE api_tokens (
    id         text PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    kind       text NOT NULL CHECK (kind IN ('user', 'company', 'platform')),
    user_id    text REFERENCES users (id),
    company_id text REFERENCES companies (id),
    scopes     text NOT NULL,
    label      text,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
