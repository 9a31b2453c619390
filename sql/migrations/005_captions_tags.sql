-- Captions and hashtags: a number for every image in upload order (what tag lists
-- and the search index point at, newest first), the caption, and each image's
-- tags. Safe to apply any number of times.

-- The number is given in order of creation to the rows that have none (all of
-- them the first time; none when run again), after the highest one given;
-- updated_at is kept, since numbering changes nothing a user made.
ALTER TABLE images ADD COLUMN IF NOT EXISTS id BIGINT UNSIGNED NULL;
SET @images_last_id = (SELECT COALESCE(MAX(id), 0) FROM images);
UPDATE images
    JOIN (SELECT image_key, ROW_NUMBER() OVER (ORDER BY created_at, image_key) AS n
          FROM images WHERE id IS NULL) AS numbered USING (image_key)
    SET images.id = @images_last_id + numbered.n, images.updated_at = images.updated_at;
ALTER TABLE images MODIFY id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    ADD UNIQUE KEY IF NOT EXISTS images_by_id (id);

-- At most 2,200 characters, as written; NULL when there is none.
ALTER TABLE images ADD COLUMN IF NOT EXISTS caption VARCHAR(2200) NULL;

-- One row per tag of an image: the tag normalised (NFKC and case folding), the
-- image's newest first under each tag, so that a page of /tags/<tag> is a short
-- range scan. Removed with the image.
CREATE TABLE IF NOT EXISTS image_tags (
    tag      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    image_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (tag, image_id DESC),
    KEY image_tags_by_image (image_id),
    CONSTRAINT image_tags_image FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
