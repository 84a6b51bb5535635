DROP INDEX resolutions_updated_idx;
