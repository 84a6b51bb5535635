-- Idempotency keys: a retried mutation with the same key by the same principal
-- returns the first result. Rows are kept at least 24 hours.
CREATE TABLE idempotency_keys (
    principal    text NOT NULL,
    key          text NOT NULL,
    operation    text NOT NULL,
    request_hash text NOT NULL,
    response     text,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, key)
);
--bun:split
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
