-- fedimpute schema, version 1.  Timestamps are UTC, stored without a zone.
-- Secrets (tokens, result passwords) are never stored here: see fedimpute.credentials.

CREATE TABLE services (
    name                VARCHAR PRIMARY KEY,
    protocol            VARCHAR NOT NULL,
    url                 VARCHAR NOT NULL,
    app                 VARCHAR,
    description         VARCHAR NOT NULL DEFAULT '',
    location            VARCHAR NOT NULL DEFAULT '',
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    builtin             BOOLEAN NOT NULL DEFAULT FALSE,
    settings            JSON NOT NULL DEFAULT '{}',
    min_samples         INTEGER,
    max_samples         INTEGER,
    max_upload_mb       INTEGER,
    max_concurrent_jobs INTEGER,
    builds              VARCHAR[] NOT NULL DEFAULT ['hg19', 'hg38'],
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE panels (
    service       VARCHAR NOT NULL,
    panel_id      VARCHAR NOT NULL,
    key           VARCHAR,
    name          VARCHAR NOT NULL,
    build         VARCHAR,
    populations   JSON NOT NULL DEFAULT '[]',
    samples       BIGINT,
    variants      BIGINT,
    discovered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (service, panel_id)
);

CREATE TABLE jobs (
    job_id         VARCHAR PRIMARY KEY,
    parent_id      VARCHAR,
    name           VARCHAR,
    service        VARCHAR NOT NULL,
    panel          VARCHAR,
    build          VARCHAR,
    population     VARCHAR,
    owner          VARCHAR NOT NULL,
    remote_id      VARCHAR,
    status         VARCHAR NOT NULL,
    remote_state   VARCHAR,
    queue_position INTEGER,
    submission_key VARCHAR,
    options        JSON NOT NULL DEFAULT '{}',
    inputs         JSON NOT NULL DEFAULT '[]',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    submitted_at   TIMESTAMP,
    started_at     TIMESTAMP,
    finished_at    TIMESTAMP,
    error          VARCHAR
);
CREATE INDEX jobs_by_status ON jobs (status);
CREATE INDEX jobs_by_service ON jobs (service);
CREATE INDEX jobs_by_owner ON jobs (owner);

CREATE SEQUENCE job_events_seq;
CREATE TABLE job_events (
    event_id   BIGINT PRIMARY KEY DEFAULT nextval('job_events_seq'),
    job_id     VARCHAR NOT NULL,
    time       TIMESTAMP NOT NULL,
    old_status VARCHAR,
    status     VARCHAR NOT NULL,
    detail     VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX job_events_by_job ON job_events (job_id);

CREATE TABLE step_messages (
    job_id        VARCHAR NOT NULL,
    step_index    INTEGER NOT NULL,
    step          VARCHAR NOT NULL,
    message_index INTEGER NOT NULL,
    time          TIMESTAMP,
    level         VARCHAR NOT NULL,
    text          VARCHAR NOT NULL,
    PRIMARY KEY (job_id, step_index, message_index)
);

CREATE TABLE result_files (
    job_id        VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    size          BIGINT,
    sha256        VARCHAR,
    path          VARCHAR,
    url           VARCHAR,
    downloaded_at TIMESTAMP,
    PRIMARY KEY (job_id, name)
);

CREATE SEQUENCE health_checks_seq;
CREATE TABLE health_checks (
    check_id   BIGINT PRIMARY KEY DEFAULT nextval('health_checks_seq'),
    service    VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    status     VARCHAR NOT NULL,
    detail     VARCHAR NOT NULL DEFAULT '',
    latency_ms DOUBLE
);
CREATE INDEX health_checks_by_service ON health_checks (service, checked_at);
