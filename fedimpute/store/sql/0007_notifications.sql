-- Notifications (fedimpute.notify): an outbox of events, written in the same transaction as the change
-- that causes them (a job completing or failing) or once per dedupe key by the monitor's upkeep (results
-- expiring or downloaded, a service down, a token expiring); one delivery per event and channel, claimed
-- before it is sent and marked after, so a crash in between repeats at most one message.
-- Channel URLs carry credentials: they live in the secret store, never here.  Channels are named by
-- their random id only, and last_error is stripped of the URL's secrets before it is written.
CREATE SEQUENCE notification_outbox_seq;
CREATE TABLE notification_outbox (
    event_id   BIGINT PRIMARY KEY DEFAULT nextval('notification_outbox_seq'),
    owner      VARCHAR NOT NULL,
    event      VARCHAR NOT NULL,  -- completed | failed | downloaded | expiring | service_down | token_expiring
    job_id     VARCHAR,
    service    VARCHAR,
    detail     VARCHAR NOT NULL DEFAULT '',
    dedupe_key VARCHAR UNIQUE,    -- events of the upkeep: each is written once
    created_at TIMESTAMP NOT NULL,
    routed_at  TIMESTAMP          -- when the sender made its deliveries (the owner's channels for the event)
);

CREATE TABLE notification_deliveries (
    event_id        BIGINT NOT NULL,
    channel_id      VARCHAR NOT NULL,
    owner           VARCHAR NOT NULL,
    state           VARCHAR NOT NULL,  -- pending | sending | sent | failed (gave up) | dropped (channel removed)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    claimed_by      VARCHAR,           -- host:pid of the sender that is sending it
    claimed_at      TIMESTAMP,
    sent_at         TIMESTAMP,
    last_error      VARCHAR,
    PRIMARY KEY (event_id, channel_id)
);

-- What `notify list` shows of each channel: the outcome of its latest attempt.
CREATE TABLE notification_channels (
    owner           VARCHAR NOT NULL,
    channel_id      VARCHAR NOT NULL,
    last_attempt_at TIMESTAMP,
    last_sent_at    TIMESTAMP,
    last_error      VARCHAR,
    PRIMARY KEY (owner, channel_id)
);
