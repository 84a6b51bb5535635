DROP TABLE case_counts;
