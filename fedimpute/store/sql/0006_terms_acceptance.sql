-- Which service terms each user of a lab accepted, and when: the Submit form asks before a user's
-- first job on a service, and asks again when the service's terms change (another SHA-256 of the
-- texts).  Every accepted version is kept, so the record answers "who agreed to what, when".
CREATE TABLE terms_acceptance (
    "user"       VARCHAR NOT NULL,
    service      VARCHAR NOT NULL,
    terms_sha256 VARCHAR NOT NULL,
    accepted_at  TIMESTAMP NOT NULL,
    PRIMARY KEY ("user", service, terms_sha256)
);
