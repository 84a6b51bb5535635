-- A claim looks for the head of a case's deliveries to an endpoint: its earliest pending
-- one. On the case index (case, endpoint, position, ordinal) the lookup started at the
-- pair's first delivery and stepped over every delivered or failed one, each checked in
-- the table, so a claim cost as much as the case's history with that endpoint (and the
-- dead versions its updates leave): 401 rows read for a case with 400 deliveries to the
-- endpoint before its pending one (TestClaimReadsOnlyPendingDeliveries), and the history
-- grows for as long as the log is kept (30 days by default). This index holds only the
-- pending deliveries, the queue itself, in the order the claim reads them. It replaces
-- the pending index on created_at, which only the backlog metric used (every 10 s per
-- process: how many deliveries are pending, and the oldest one's time): created_at ends
-- this index's key, so that the metric still reads the index alone, not every pending
-- row in the table (a backlog of millions when an endpoint has been down for days).
--
-- CONCURRENTLY (this file runs outside a transaction): the log may hold millions of rows,
-- and a plain CREATE INDEX would block every change's delivery insert while it builds. The
-- new index is built before the old one goes; a build that failed half-way leaves an
-- invalid index, dropped first when the migration runs again.
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_head_idx;
--bun:split
CREATE INDEX CONCURRENTLY webhook_deliveries_head_idx ON webhook_deliveries (case_id, endpoint_id, position, ordinal, created_at)
    WHERE status = 'pending';
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_pending_idx;
