-- The version a key had when its image was deleted, so that an image uploaded
-- under that key later goes on from it. memcache refuses values older than a
-- key's last invalidation (the delete's); a new image that started again at
-- version 1 would be refused, and never cached, until memcache forgot that
-- invalidation. Kept by the triggers below in the transactions of the delete
-- and of the upload. Safe to apply any number of times.
CREATE TABLE IF NOT EXISTS image_deleted_versions (
    image_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    version   BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (image_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TRIGGER IF NOT EXISTS images_version_remember AFTER DELETE ON images FOR EACH ROW
    INSERT INTO image_deleted_versions (image_key, version) VALUES (OLD.image_key, OLD.version)
    ON DUPLICATE KEY UPDATE version = GREATEST(version, OLD.version);

-- An INSERT that meets an existing key updates it instead (version + 1): then
-- there is no remembered version, as the row was never deleted since.
CREATE TRIGGER IF NOT EXISTS images_version_continue BEFORE INSERT ON images FOR EACH ROW
    SET NEW.version = GREATEST(NEW.version, COALESCE(
        (SELECT version + 1 FROM image_deleted_versions WHERE image_key = NEW.image_key), 0));

CREATE TRIGGER IF NOT EXISTS images_version_forget AFTER INSERT ON images FOR EACH ROW
    DELETE FROM image_deleted_versions WHERE image_key = NEW.image_key;
