-- Pre-moderation (app.moderation: pre): a new entry waits, pending, until
-- the admin approves it, and no public page or API shows it meanwhile.
-- Entries made before this migration, and every entry with moderation off,
-- are approved: 0. The index is the public list's: WHERE pending = 0 AND
-- id < ? ORDER BY id DESC LIMIT ? walks (pending, id) backwards and reads
-- no waiting row, and the admin's list of waiting entries walks the other
-- end. The migration runs in one transaction: both statements apply or
-- neither.
ALTER TABLE entries ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX entries_pending_id ON entries (pending, id);
