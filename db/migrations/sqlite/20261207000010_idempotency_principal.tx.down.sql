-- Records keyed by principal cannot be told apart by token again; an older build
-- simply does not find them (they expire within 24 hours).
SELECT 1;
