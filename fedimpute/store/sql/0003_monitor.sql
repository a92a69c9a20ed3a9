-- The job monitor's bookkeeping, apart from the job records: when to poll a job next,
-- how often polling failed, how far its submission got (what makes crash recovery safe)
-- and whether its results are fetched; and the lease that lets one process per
-- FEDIMPUTE_HOME poll at a time.
CREATE TABLE job_tracking (
    job_id        VARCHAR PRIMARY KEY,
    submit_state  VARCHAR,            -- uploading | waiting_for_slot | submitted | unknown
    submit_owner  VARCHAR,            -- host:pid of the process uploading it
    submit_after  TIMESTAMP,          -- a job waiting for a slot is retried from then
    next_poll_at  TIMESTAMP,          -- the monitor leaves the job alone until then
    poll_failures INTEGER NOT NULL DEFAULT 0,
    results_state VARCHAR,            -- downloaded | failed | expired
    results_error VARCHAR
);

CREATE TABLE monitor_lease (
    name        VARCHAR PRIMARY KEY,
    owner       VARCHAR NOT NULL,
    acquired_at TIMESTAMP NOT NULL,
    heartbeat   TIMESTAMP NOT NULL
);
