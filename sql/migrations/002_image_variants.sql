-- Thumbnails per content hash, made by the worker. Safe to apply any number of times.
CREATE TABLE IF NOT EXISTS image_variants (
    sha256      CHAR(64)     NOT NULL,          -- the original's content hash
    size        ENUM('s','m') NOT NULL,         -- s: 512 px, m: 1440 px, longest side
    location    VARCHAR(255) NOT NULL,          -- where the blob store keeps it
    width       INT UNSIGNED NOT NULL,
    height      INT UNSIGNED NOT NULL,
    bytes       BIGINT UNSIGNED NOT NULL,
    created_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (sha256, size)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
