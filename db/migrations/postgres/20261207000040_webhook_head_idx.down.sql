DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_pending_idx;
--bun:split
CREATE INDEX CONCURRENTLY webhook_deliveries_pending_idx ON webhook_deliveries (created_at) WHERE status = 'pending';
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_head_idx;
