-- Search: the gallery's own index of caption and key words, and a way to list a
-- user's images newest first. Safe to apply any number of times.

-- One row per term of an image: each word of its caption and key under every
-- prefix of 1 to 8 characters (core/search_terms.h; a longer query word looks up
-- its first 8 and is checked against the text), and Chinese, Japanese and Korean
-- text as single characters and overlapping pairs. Terms are normalised (NFKC,
-- case folded, accents stripped) by the one tokeniser that queries use too, so
-- they compare as bytes. Stored prefixes rather than a range scan over words: a
-- range of words has no order by image, so a prefix as short as "b" would read
-- and sort every matching row; with the prefix stored, any query term lists its
-- images newest first, and a page of results is a short range scan of the key.
-- Written in the transaction that writes the caption; removed with the image.
CREATE TABLE IF NOT EXISTS search_terms (
    term     VARBINARY(32) NOT NULL,
    image_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (term, image_id DESC),
    KEY search_terms_by_image (image_id),
    CONSTRAINT search_terms_image FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- @user: a user's images newest first, as a short range scan.
CREATE INDEX IF NOT EXISTS images_by_owner_id ON images (owner_id, id DESC);

-- Images that existed before the index, by id, are indexed by the front end at
-- start, downward from this mark (0 when done); later ones are indexed as they
-- are written.
CREATE TABLE IF NOT EXISTS search_backfill (
    one     TINYINT UNSIGNED NOT NULL DEFAULT 1,
    next_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (one)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT IGNORE INTO search_backfill (one, next_id) SELECT 1, COALESCE(MAX(id), 0) FROM images;
