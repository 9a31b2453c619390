-- Search terms without a foreign key: each of the ~60 terms of a caption was
-- checked against images as it was inserted (a lookup of the image row and a
-- shared lock on it, per term), which was more than half of what a caption
-- added to an upload. The terms of an image are written in the transaction
-- that writes the image, so the check proved nothing. A trigger removes an
-- image's terms when its row goes, as the cascade did, whoever deletes it (the
-- gallery, a script, by hand). It comes first, so that no delete falls between
-- the two. Safe to apply any number of times.
CREATE TRIGGER IF NOT EXISTS images_search_terms_delete AFTER DELETE ON images FOR EACH ROW
    DELETE FROM search_terms WHERE image_id = OLD.id;

ALTER TABLE search_terms DROP FOREIGN KEY IF EXISTS search_terms_image;
