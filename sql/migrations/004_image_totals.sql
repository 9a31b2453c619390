-- Keys at scale: the home page's counts without a scan, and an index in the order
-- every listing uses (newest first, then key), so pages and streams read it in
-- order instead of sorting the table. Safe to apply any number of times.

-- The number and bytes of images, spread over 16 slots so that concurrent uploads
-- seldom wait on one row; the totals are the sums. Kept by the triggers below in
-- the transaction of every change to images, whoever makes it (uploads, scripts,
-- rows inserted by hand), so they are exact as soon as that change commits.
-- Sizes are added as decimals: a slot's sum may be below zero, where unsigned
-- arithmetic is an error, and a sum of sizes may pass what a signed BIGINT holds.
CREATE TABLE IF NOT EXISTS image_totals (
    slot        TINYINT UNSIGNED NOT NULL,
    image_count BIGINT NOT NULL DEFAULT 0,   -- a slot may go negative; the sum may not
    total_bytes DECIMAL(30, 0) NOT NULL DEFAULT 0, -- sums of BIGINT UNSIGNED sizes, also below zero
    PRIMARY KEY (slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TRIGGER IF NOT EXISTS images_totals_insert AFTER INSERT ON images FOR EACH ROW
    INSERT INTO image_totals (slot, image_count, total_bytes)
    VALUES (CONNECTION_ID() % 16, 1, NEW.size_bytes)
    ON DUPLICATE KEY UPDATE image_count = image_count + 1,
                            total_bytes = total_bytes + NEW.size_bytes;

CREATE TRIGGER IF NOT EXISTS images_totals_update AFTER UPDATE ON images FOR EACH ROW
    INSERT INTO image_totals (slot, image_count, total_bytes)
    VALUES (CONNECTION_ID() % 16, 0,
            CAST(NEW.size_bytes AS DECIMAL(30, 0)) - OLD.size_bytes)
    ON DUPLICATE KEY UPDATE total_bytes = total_bytes + NEW.size_bytes - OLD.size_bytes;

CREATE TRIGGER IF NOT EXISTS images_totals_delete AFTER DELETE ON images FOR EACH ROW
    INSERT INTO image_totals (slot, image_count, total_bytes)
    VALUES (CONNECTION_ID() % 16, -1, -CAST(OLD.size_bytes AS DECIMAL(30, 0)))
    ON DUPLICATE KEY UPDATE image_count = image_count - 1,
                            total_bytes = total_bytes - OLD.size_bytes;

-- The backfill, after the triggers so that no change falls between the two; run
-- again, it computes the same totals.
DELETE FROM image_totals;
INSERT INTO image_totals (slot, image_count, total_bytes)
    SELECT 0, COUNT(*), COALESCE(SUM(size_bytes), 0) FROM images;

-- Newest first, then key: the order of /api/list_keys, the home page and /keys_list.
CREATE INDEX IF NOT EXISTS images_by_recent ON images (updated_at DESC, image_key);
