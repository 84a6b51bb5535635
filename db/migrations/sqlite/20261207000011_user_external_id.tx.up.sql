-- A user's identity at the OpenID Connect provider (the sub of its sign-in tokens);
-- null for users who sign in with opaque tokens only. Unique: one user per identity.
ALTER TABLE users ADD COLUMN external_id text;
--bun:split
CREATE UNIQUE INDEX users_external_id_idx ON users (external_id);
