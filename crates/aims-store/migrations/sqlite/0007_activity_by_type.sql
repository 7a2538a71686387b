-- The separation-of-duties judgement reads who changed records of one kind since an approval
-- (the SoA's entries are the controls): the log of one organisation by record type, in order.
CREATE INDEX activity_log_by_type ON activity_log(org_id, record_type, seq);
