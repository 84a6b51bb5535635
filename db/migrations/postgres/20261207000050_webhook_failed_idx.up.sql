-- The failed deliveries of an endpoint, newest first: what a dashboard lists with
-- deliveries(status: FAILED) and what redeliverFailedWebhooks requeues after an outage.
-- Failed rows are few among the delivered ones, and only a delivery that gives up enters
-- this index: the hot path of inserts and successful deliveries never writes it. On the
-- endpoint index alone, a page of failures scanned the endpoint's whole history when it
-- had few.
--
-- CONCURRENTLY (this file runs outside a transaction), as the head index: a plain CREATE
-- INDEX would block the delivery log's writes while it builds; a half-built index from an
-- earlier try is dropped first.
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_failed_idx;
--bun:split
CREATE INDEX CONCURRENTLY webhook_deliveries_failed_idx ON webhook_deliveries (endpoint_id, id) WHERE status = 'failed';
