-- The delivery log's retention (WEBHOOK_DELIVERY_RETENTION, applied by the sweeper).
-- Finished deliveries are found by their time-ordered IDs on the primary key; a change's
-- message goes with its last delivery, found by case: the ordering index now leads with
-- the case (the head lookup names case and endpoint, so it serves both), and messages
-- are found by age.
DROP INDEX webhook_deliveries_order_idx;
--bun:split
CREATE INDEX webhook_deliveries_case_idx ON webhook_deliveries (case_id, endpoint_id, position, ordinal);
--bun:split
CREATE INDEX webhook_messages_created_idx ON webhook_messages (created_at);
