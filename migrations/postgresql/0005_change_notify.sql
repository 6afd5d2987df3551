-- threatd schema v5 (PostgreSQL 15): change notifications between instances.
-- Several threatd instances may share one database (docs/architecture.md,
-- "Scaling out"). Each caches the whitelist, the data source flags, the
-- self-healing settings and decisions in force, and the active models; a
-- statement-level trigger notifies channel `threatd_changes` with the table's
-- name after every change, and every instance LISTENs and reloads what
-- changed (storage/change_feed.h). The payload is "<table> <application_name
-- of the writing session>": each instance connects with its own name and
-- skips the changes it made itself. NOTIFY is transactional (delivered at
-- commit, not at all on rollback) and identical notifications of one
-- transaction are folded into one.
CREATE FUNCTION threatd_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('threatd_changes', TG_TABLE_NAME || ' ' || coalesce(current_setting('application_name', true), ''));
  RETURN NULL;
END;
$$;

CREATE TRIGGER ip_whitelist_notify AFTER INSERT OR UPDATE OR DELETE ON ip_whitelist
  FOR EACH STATEMENT EXECUTE FUNCTION threatd_notify_change();
CREATE TRIGGER data_source_config_notify AFTER INSERT OR UPDATE OR DELETE ON data_source_config
  FOR EACH STATEMENT EXECUTE FUNCTION threatd_notify_change();
CREATE TRIGGER healing_settings_notify AFTER INSERT OR UPDATE OR DELETE ON healing_settings
  FOR EACH STATEMENT EXECUTE FUNCTION threatd_notify_change();
CREATE TRIGGER self_healing_actions_notify AFTER INSERT OR UPDATE OR DELETE ON self_healing_actions
  FOR EACH STATEMENT EXECUTE FUNCTION threatd_notify_change();
CREATE TRIGGER ml_models_notify AFTER INSERT OR UPDATE OR DELETE ON ml_models
  FOR EACH STATEMENT EXECUTE FUNCTION threatd_notify_change();
