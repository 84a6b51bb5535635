DROP INDEX webhook_deliveries_head_idx;
--bun:split
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (created_at) WHERE status = 'pending';
