DROP TABLE api_tokens;
--bun:split
DROP TABLE resolution_events;
--bun:split
DROP TABLE resolutions;
--bun:split
DROP TABLE payments;
--bun:split
DROP TABLE memberships;
--bun:split
DROP TABLE team_members;
--bun:split
DROP TABLE users;
--bun:split
DROP TABLE companies;
