-- Idempotency records are bound to the principal ("user:<id>", "company:<id>" or
-- "platform"), not to the token: a retry through another token of the same user (a
-- second device) replays the first result. Records stored before named the token (its
-- ID, or "platform-env" for PLATFORM_TOKEN); they are rewritten to their token's
-- principal, so a retry across the upgrade still finds its first result. Where tokens
-- of one principal used the same key, the oldest record is kept (the first result,
-- which is what a retry through any token gets from now on) and the later ones are
-- dropped. Records expire 24 hours after they were made, as before.
WITH mapped AS (
    SELECT k.principal AS old_principal, k.key AS key, k.created_at AS created_at,
        COALESCE((SELECT CASE t.kind WHEN 'user' THEN 'user:' || t.user_id
                                     WHEN 'company' THEN 'company:' || t.company_id
                                     ELSE 'platform' END
                  FROM api_tokens t WHERE t.id = k.principal),
                 CASE WHEN k.principal = 'platform-env' THEN 'platform' ELSE k.principal END) AS principal
    FROM idempotency_keys k
)
DELETE FROM idempotency_keys WHERE EXISTS (
    SELECT 1 FROM mapped a, mapped b
    WHERE a.old_principal = idempotency_keys.principal AND a.key = idempotency_keys.key
      AND b.principal = a.principal AND b.key = a.key
      AND (b.created_at < a.created_at OR (b.created_at = a.created_at AND b.old_principal < a.old_principal)));
--bun:split
UPDATE idempotency_keys SET principal = COALESCE(
    (SELECT CASE t.kind WHEN 'user' THEN 'user:' || t.user_id
                        WHEN 'company' THEN 'company:' || t.company_id
                        ELSE 'platform' END
     FROM api_tokens t WHERE t.id = idempotency_keys.principal),
    CASE WHEN idempotency_keys.principal = 'platform-env' THEN 'platform' ELSE idempotency_keys.principal END);
