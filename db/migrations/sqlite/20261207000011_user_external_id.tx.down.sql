DROP INDEX users_external_id_idx;
--bun:split
ALTER TABLE users DROP COLUMN external_id;
