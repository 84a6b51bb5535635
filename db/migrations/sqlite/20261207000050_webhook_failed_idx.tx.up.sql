-- The failed deliveries of an endpoint, newest first: what deliveries(status: FAILED)
-- lists and redeliverFailedWebhooks requeues. Failed rows are few among the delivered
-- ones, and only a delivery that gives up enters it: inserts and successful deliveries
-- never write it.
CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (endpoint_id, id) WHERE status = 'failed';
