-- Readiness over time: one snapshot per organisation and day, measured when the readiness
-- dashboard or API is first read that day (or by the scheduler). The figures per clause and
-- per Annex A group, and the gap counts per severity, are kept as the JSON the evaluation made
-- at that moment: a snapshot is a fact measured then, never recomputed.
CREATE TABLE readiness_snapshots (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    day TEXT NOT NULL,
    overall BIGINT NOT NULL,
    gaps_high BIGINT NOT NULL,
    gaps_medium BIGINT NOT NULL,
    gaps_low BIGINT NOT NULL,
    figures TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    PRIMARY KEY (org_id, day)
);
