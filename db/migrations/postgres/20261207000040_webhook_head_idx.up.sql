-- A claim looks for the head of a case's deliveries to an endpoint: its earliest pending
-- one. On the case index (case, endpoint, position, ordinal) the lookup started at the
-- pair's first delivery and stepped over every delivered or failed one, each checked in
-- the table, so a claim cost as much as the case's history with that endpoint (and the
-- dead versions its updates leave): 3.1 ms a claim batch under the webhooks benchmark,
-- and more the longer cases live. This index holds only the pending deliveries, the
-- queue itself, in the order the claim reads them; it replaces the pending index on
-- created_at (only the backlog metric used it, and it counts every pending row anyway).
DROP INDEX webhook_deliveries_pending_idx;
--bun:split
CREATE INDEX webhook_deliveries_head_idx ON webhook_deliveries (case_id, endpoint_id, position, ordinal) WHERE status = 'pending';
