-- Resync after missed notifications reads recently updated cases.
CREATE INDEX resolutions_updated_idx ON resolutions (updated_at);
