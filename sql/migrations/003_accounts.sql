-- Accounts: users, their sessions and API tokens, mailed tokens, login failures,
-- and the owner of each image. Safe to apply any number of times.
CREATE TABLE IF NOT EXISTS users (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    username      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, -- a-z 0-9 _ .
    -- Case-insensitive, so that Bob@x.org and bob@x.org are one address.
    email         VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, -- argon2id, libsodium's string
    verified_at   TIMESTAMP(3) NULL,
    is_admin      TINYINT(1)   NOT NULL DEFAULT 0,
    created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY users_username (username),
    UNIQUE KEY users_email (email),
    KEY users_admin (is_admin)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Browser sessions and API tokens alike; the token itself is never stored.
CREATE TABLE IF NOT EXISTS sessions (
    token_hash   BINARY(32)   NOT NULL,          -- SHA-256 of the token
    user_id      BIGINT UNSIGNED NOT NULL,
    kind         ENUM('browser','api') NOT NULL,
    name         VARCHAR(64)  CHARACTER SET utf8mb4 NULL, -- an API token's name
    created_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    last_used_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    expires_at   TIMESTAMP(3) NULL,              -- the absolute end; NULL for API tokens
    PRIMARY KEY (token_hash),
    KEY sessions_by_user (user_id, kind),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Tokens sent by mail (verify the address, reset the password): hashed, expiring, single use.
CREATE TABLE IF NOT EXISTS email_tokens (
    token_hash BINARY(32)   NOT NULL,
    user_id    BIGINT UNSIGNED NOT NULL,
    purpose    ENUM('verify','reset') NOT NULL,
    expires_at TIMESTAMP(3) NOT NULL,
    used_at    TIMESTAMP(3) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (token_hash),
    KEY email_tokens_by_user (user_id),
    CONSTRAINT email_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per failed login, so that every front end counts the same failures.
CREATE TABLE IF NOT EXISTS login_failures (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id    BIGINT UNSIGNED NULL,             -- NULL for an unknown name
    address    VARCHAR(64)  CHARACTER SET ascii NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY login_failures_by_user (user_id, created_at),
    KEY login_failures_by_address (address, created_at),
    KEY login_failures_by_time (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE images ADD COLUMN IF NOT EXISTS owner_id BIGINT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS images_by_owner ON images (owner_id, created_at);
ALTER TABLE images ADD CONSTRAINT images_owner
    FOREIGN KEY IF NOT EXISTS (owner_id) REFERENCES users (id) ON DELETE SET NULL;
