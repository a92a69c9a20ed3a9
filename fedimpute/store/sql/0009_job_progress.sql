-- Where each job is inside its run, as the services say it (fedimpute.jobs.progress): one row per change
-- seen by the monitor or a refresh (step, "i of n" counts, queue position), never rewritten, so a job's
-- rows are also its history: the phases on the dashboard's board and how its queue position moved.
-- Unknown stays NULL (a service that gives no counts has no fraction).  The job's newest row is its progress.
CREATE SEQUENCE job_progress_seq;
CREATE TABLE job_progress (
    progress_id    BIGINT PRIMARY KEY DEFAULT nextval('job_progress_seq'),
    job_id         VARCHAR NOT NULL,
    time           TIMESTAMP NOT NULL,
    status         VARCHAR NOT NULL,
    step           VARCHAR,            -- what the job is doing: "queued", a service's step name, "completed"
    step_index     INTEGER,            -- 0-based position of that step among the service's steps
    done           INTEGER,            -- units finished (unit below), NULL when unknown
    total          INTEGER,            -- units in all, NULL when unknown
    unit           VARCHAR,            -- steps | chunks | tasks
    fraction       DOUBLE,             -- 0..1 of the run, NULL when it cannot be computed honestly
    queue_position INTEGER
);
CREATE INDEX job_progress_by_job ON job_progress (job_id);
