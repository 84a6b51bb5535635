-- Case counts: how many cases each company, each customer and the whole platform has,
-- by status, issue and outcome, so that resolutionSummary and totalCount answer from a
-- few rows instead of scanning the cases. Every write of a case changes them in its own
-- transaction (db/counts.go). scope is a company ID (its cases, as their merchant), a
-- user ID (the cases they opened, as the customer) or '*' (every case). The '*' rows
-- are spread over 8 slots (the code of the case ID's last character, modulo 8; on
-- PostgreSQL, so that concurrent writers rarely wait for one row); the other scopes
-- have slot ''. outcome is '' while open.
CREATE TABLE case_counts (
    scope   text NOT NULL,
    slot    text NOT NULL,
    status  text NOT NULL,
    issue   text NOT NULL,
    outcome text NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (scope, slot, status, issue, outcome)
) WITHOUT ROWID;
--bun:split
-- The same counts as db.recountQuery.
INSERT INTO case_counts (scope, slot, status, issue, outcome, n)
SELECT company_id, '', status, issue, coalesce(outcome, ''), count(*) FROM resolutions
GROUP BY company_id, status, issue, coalesce(outcome, '')
UNION ALL
SELECT user_id, '', status, issue, coalesce(outcome, ''), count(*) FROM resolutions
GROUP BY user_id, status, issue, coalesce(outcome, '')
UNION ALL
SELECT '*', CAST(unicode(substr(id, -1)) % 8 AS TEXT), status, issue, coalesce(outcome, ''), count(*) FROM resolutions
GROUP BY unicode(substr(id, -1)) % 8, status, issue, coalesce(outcome, '');
