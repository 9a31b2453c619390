-- Cloud Image Gallery schema. Safe to apply any number of times.

-- Keys compare byte for byte (no case folding, no trailing-space padding).
CREATE TABLE IF NOT EXISTS images (
    image_key    VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    location     VARCHAR(255) NOT NULL,       -- path relative to DATA_DIR/images
    content_type VARCHAR(32)  NOT NULL,
    size_bytes   BIGINT UNSIGNED NOT NULL,
    sha256       CHAR(64)     NOT NULL,
    width        INT UNSIGNED NULL,
    height       INT UNSIGNED NULL,
    version      BIGINT UNSIGNED NOT NULL DEFAULT 1, -- grows on every upload of the key
    created_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (image_key),
    KEY images_by_sha256 (sha256),
    KEY images_by_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The newest row is the configuration in force.
CREATE TABLE IF NOT EXISTS cache_properties (
    id                 INT UNSIGNED NOT NULL AUTO_INCREMENT,
    max_capacity       INT UNSIGNED NOT NULL,  -- MB
    replacement_policy VARCHAR(16)  NOT NULL,  -- 'LRU' or 'RR'
    created_at         TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per stats interval; the three counts cover that interval only.
CREATE TABLE IF NOT EXISTS cache_stats (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    cache_size    BIGINT UNSIGNED NOT NULL,    -- bytes
    key_count     INT UNSIGNED NOT NULL,
    request_count INT UNSIGNED NOT NULL,
    hit_count     INT UNSIGNED NOT NULL,
    miss_count    INT UNSIGNED NOT NULL,
    created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY cache_stats_by_time (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
