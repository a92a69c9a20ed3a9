-- DuckDB scans a column of 50,000 jobs in about a millisecond, while an ART index on a column
-- that changes (status) turns every monitor update into an index delete and insert.
DROP INDEX jobs_by_status;
DROP INDEX jobs_by_service;
DROP INDEX jobs_by_owner;
