-- Officer work: notices carry the officer-entered text (evidence requested,
-- interview place and time) they were issued with.
ALTER TABLE notices ADD COLUMN body TEXT;
CREATE INDEX persons_family_name ON persons(family_name);
