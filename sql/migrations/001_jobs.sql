-- The job queue (the outbox pattern): a job is enqueued in the transaction of the
-- change that asks for it, and claimed by workers with SELECT ... FOR UPDATE SKIP LOCKED.
-- Safe to apply any number of times.
CREATE TABLE IF NOT EXISTS jobs (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind         VARCHAR(16)  NOT NULL,         -- thumbnail, enhance, calc, mail
    state        ENUM('queued','running','done','dead') NOT NULL DEFAULT 'queued',
    dedupe_key   VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL,
    -- The dedupe key while the job is queued or running, NULL after: its unique
    -- index allows one such job per kind and key, and any number of finished ones.
    active_key   VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin
                 AS (IF(state IN ('queued','running'), dedupe_key, NULL)) PERSISTENT,
    -- 1 while a worker may have to act on it: what the claim's index starts with.
    pending      TINYINT AS (state IN ('queued','running')) PERSISTENT,
    payload      MEDIUMTEXT   NOT NULL,         -- JSON, the kind's input
    result       MEDIUMTEXT   NULL,             -- JSON, once done
    error        TEXT         NULL,             -- the last failure, in words
    attempts     INT UNSIGNED NOT NULL DEFAULT 0, -- claims so far; the fencing token
    max_attempts INT UNSIGNED NOT NULL,
    -- Queued: not to be claimed before this (backoff). Running: the lease's end,
    -- after which another worker may claim it. One column, so that a claim is one
    -- ordered range scan whichever of the two it finds.
    run_after    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    lease_until  TIMESTAMP(3) NULL,
    created_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    started_at   TIMESTAMP(3) NULL,             -- the latest claim
    finished_at  TIMESTAMP(3) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY jobs_active_key (kind, active_key),
    KEY jobs_runnable (pending, run_after, id),
    KEY jobs_by_state (state, id),
    KEY jobs_by_kind (kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
