-- threatd schema v5 (SQLite): nothing to do. On PostgreSQL this version adds
-- the triggers that notify other instances of changes (LISTEN/NOTIFY); an
-- SQLite file belongs to one threatd process, which changes its caches itself.
-- The version exists on both dialects so that schema_migrations agree.
SELECT 1;
