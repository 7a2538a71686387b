-- The activity log read by record type, newest first (the web log's type filter), and the list
-- of record types a log holds (a loose index scan, one probe per type): both walk this index
-- instead of the whole organisation's chain.
CREATE INDEX activity_log_by_type ON activity_log (org_id, record_type, seq);
