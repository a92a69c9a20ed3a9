-- When a service deletes a job's results (Cloudgene: 7 days after completion unless the job says
-- otherwise), and when the monitor last warned that they are about to go undownloaded (once per job).
-- Health checks already carry their time (0001); the history reads them by service and time.
ALTER TABLE jobs ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE jobs ADD COLUMN expiry_warned_at TIMESTAMP;
