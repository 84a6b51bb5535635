-- A claim looks for the head of a case's deliveries to an endpoint: its earliest pending
-- one. On the case index (case, endpoint, position, ordinal) the lookup started at the
-- pair's first delivery and stepped over every delivered or failed one, each checked in
-- the table, so a claim cost as much as the case's history with that endpoint (and the
-- dead versions its updates leave): 401 rows read for a case with 400 deliveries to the
-- endpoint before its pending one (TestClaimReadsOnlyPendingDeliveries), and the history
-- grows for as long as the log is kept (30 days by default). This index holds only the
-- pending deliveries, the queue itself, in the order the claim reads them. It replaces
-- the pending index on created_at, which only the backlog metric used (it counts every
-- pending row anyway). Unlike PostgreSQL's, it does not end with created_at: SQLite's
-- planner then preferred the case index for the claim.
DROP INDEX webhook_deliveries_pending_idx;
--bun:split
CREATE INDEX webhook_deliveries_head_idx ON webhook_deliveries (case_id, endpoint_id, position, ordinal) WHERE status = 'pending';
