CREATE TRIGGER accounts_touch_row BEFORE INSERT OR UPDATE ON core_api.accounts FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('account_id');

CREATE TRIGGER api_keys_touch_row BEFORE INSERT OR UPDATE ON core_api.api_keys FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('api_key_id');

CREATE TRIGGER companies_touch_row BEFORE INSERT OR UPDATE ON core_api.companies FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('company_id');

CREATE TRIGGER connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('connector_id');

CREATE TRIGGER memberships_touch_row BEFORE INSERT OR UPDATE ON core_api.memberships FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('membership_id');

CREATE TRIGGER peoples_touch_row BEFORE INSERT OR UPDATE ON core_api.peoples FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('person_id');

CREATE TRIGGER providers_touch_row BEFORE INSERT OR UPDATE ON core_api.providers FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('provider_id');

CREATE TRIGGER workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_connector_id');

CREATE TRIGGER workspace_group_memberships_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_group_memberships FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_group_membership_id');

CREATE TRIGGER workspace_group_workspaces_recorded_delete AFTER DELETE ON core_api.workspace_group_workspaces REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_group_workspaces();

CREATE TRIGGER workspace_group_workspaces_recorded_insert AFTER INSERT ON core_api.workspace_group_workspaces REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_group_workspaces();

CREATE TRIGGER workspace_group_workspaces_recorded_update AFTER UPDATE ON core_api.workspace_group_workspaces REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_group_workspaces();

CREATE TRIGGER workspace_group_workspaces_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_group_workspaces FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_group_workspace_id');

CREATE TRIGGER workspace_groups_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_groups FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_group_id');

CREATE TRIGGER workspace_providers_recorded_delete AFTER DELETE ON core_api.workspace_providers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_providers();

CREATE TRIGGER workspace_providers_recorded_insert AFTER INSERT ON core_api.workspace_providers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_providers();

CREATE TRIGGER workspace_providers_recorded_update AFTER UPDATE ON core_api.workspace_providers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_providers();

CREATE TRIGGER workspace_providers_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_providers FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_provider_id');

CREATE TRIGGER workspaces_touch_row BEFORE INSERT OR UPDATE ON core_api.workspaces FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_id');
