DROP INDEX webhook_messages_created_idx;
--bun:split
DROP INDEX webhook_deliveries_case_idx;
--bun:split
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, case_id, position, ordinal);
