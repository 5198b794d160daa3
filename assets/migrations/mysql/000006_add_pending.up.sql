-- Pre-moderation (app.moderation: pre): a new entry waits, pending, until
-- the admin approves it, and no public page or API shows it meanwhile.
-- Entries made before this migration, and every entry with moderation off,
-- are approved: 0. The index is the public list's: WHERE pending = 0 AND
-- id < ? ORDER BY id DESC LIMIT ? walks (pending, id) backwards and reads
-- no waiting row, and the admin's list of waiting entries walks the other
-- end. One statement: MySQL commits each DDL statement on its own, and this
-- one adds both or nothing.
ALTER TABLE entries
    ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE,
    ADD INDEX entries_pending_id (pending, id);
