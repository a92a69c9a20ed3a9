-- What each input file of a job was when the job was recorded, before anything was uploaded: its name,
-- size and SHA-256, what the pre-flight check read in it (chromosomes, samples, variants, build) and its
-- verdict.  Kept because the file may change or vanish later; a job's provenance (`fedimpute
-- provenance`) cites these facts, never a fresh read.  `chromosomes` and `checks` hold JSON lists.
CREATE TABLE job_inputs (
    job_id            VARCHAR NOT NULL,
    position          INTEGER NOT NULL,
    path              VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    size              BIGINT NOT NULL,
    sha256            VARCHAR NOT NULL,
    chromosomes       VARCHAR NOT NULL DEFAULT '[]',
    samples           BIGINT,
    variants          BIGINT,
    build             VARCHAR,
    verdict           VARCHAR NOT NULL,
    checks            VARCHAR NOT NULL DEFAULT '[]',
    fedimpute_version VARCHAR NOT NULL,
    recorded_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (job_id, position)
);
