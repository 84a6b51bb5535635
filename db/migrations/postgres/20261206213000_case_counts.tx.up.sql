-- Case counts: how many cases each company, each customer and the whole platform has,
-- by status, issue and outcome, so that resolutionSummary and totalCount answer from a
-- few rows instead of scanning the cases. Every write of a case changes them in its own
-- transaction (db/counts.go). scope is a company ID (its cases, as their merchant), a
-- user ID (the cases they opened, as the customer) or '*' (every case). The '*' rows
-- are spread over 8 slots (the code of the case ID's last character, modulo 8), so that
-- concurrent writers rarely wait for one row; the other scopes have slot ''. outcome is
-- '' while open.
CREATE TABLE case_counts (
    scope   text NOT NULL,
    slot    text NOT NULL,
    status  text NOT NULL,
    issue   text NOT NULL,
    outcome text NOT NULL,
    n       bigint NOT NULL
) WITH (fillfactor = 80);
--bun:split
-- Writers of an older build wait while the counts are filled, so none is missed.
LOCK TABLE resolutions IN SHARE MODE;
--bun:split
-- One hash table per kind of scope in memory (about 230 MB for 1,000,000 cases) rather
-- than sorts spilled to disk: 8 s instead of 21 s on the benchmark data set.
SET LOCAL work_mem = '256MB';
--bun:split
SET LOCAL jit = off;
--bun:split
-- The server's STATEMENT_TIMEOUT bounds requests, not this one-off fill.
SET LOCAL statement_timeout = 0;
--bun:split
-- One pass over the cases for the three kinds of scope (db.recountQuery), stored scope
-- by scope: a scope's rows share a few pages (the platform's 320 rows about 7),
-- which is what a summary reads. The free fifth of each page keeps updated rows there
-- (HOT updates).
INSERT INTO case_counts (scope, slot, status, issue, outcome, n)
SELECT * FROM (
    SELECT coalesce(company_id, user_id, '*') AS scope, coalesce(slot, '') AS slot, status, issue, outcome, count(*) AS n
    FROM (SELECT company_id, user_id, (ascii(right(id, 1)) % 8)::text AS slot, status, issue, coalesce(outcome, '') AS outcome
          FROM resolutions) AS r
    GROUP BY GROUPING SETS ((company_id, status, issue, outcome), (user_id, status, issue, outcome),
                            (slot, status, issue, outcome))
) AS g ORDER BY scope COLLATE "C";
--bun:split
-- The key after the rows: one sorted index build instead of a million insertions.
ALTER TABLE case_counts ADD PRIMARY KEY (scope, slot, status, issue, outcome);
--bun:split
ANALYZE case_counts;
