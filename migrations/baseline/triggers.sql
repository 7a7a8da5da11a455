CREATE TRIGGER account_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.account_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

CREATE TRIGGER account_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.account_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.account_workspace_connectors_parents_agree();

CREATE TRIGGER account_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.account_workspace_connectors FOR EACH ROW WHEN (((old.account_pk IS DISTINCT FROM new.account_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.account_workspace_connectors_parents_agree();

CREATE TRIGGER account_workspace_connectors_recorded_delete AFTER DELETE ON core_api.account_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_account_workspace_connectors();

CREATE TRIGGER account_workspace_connectors_recorded_insert AFTER INSERT ON core_api.account_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_account_workspace_connectors();

CREATE TRIGGER account_workspace_connectors_recorded_update AFTER UPDATE ON core_api.account_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_account_workspace_connectors();

CREATE TRIGGER account_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.account_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('account_workspace_connector_id');

CREATE TRIGGER accounts_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.accounts FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('account_workspace_connectors', 'account_pk');

CREATE TRIGGER accounts_touch_row BEFORE INSERT OR UPDATE ON core_api.accounts FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('account_id');

CREATE TRIGGER api_keys_touch_row BEFORE INSERT OR UPDATE ON core_api.api_keys FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('api_key_id');

CREATE TRIGGER companies_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.companies FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('company_workspace_connectors', 'company_pk');

CREATE TRIGGER companies_touch_row BEFORE INSERT OR UPDATE ON core_api.companies FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('company_id');

CREATE TRIGGER company_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.company_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

CREATE TRIGGER company_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.company_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.company_workspace_connectors_parents_agree();

CREATE TRIGGER company_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.company_workspace_connectors FOR EACH ROW WHEN (((old.company_pk IS DISTINCT FROM new.company_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.company_workspace_connectors_parents_agree();

CREATE TRIGGER company_workspace_connectors_recorded_delete AFTER DELETE ON core_api.company_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_company_workspace_connectors();

CREATE TRIGGER company_workspace_connectors_recorded_insert AFTER INSERT ON core_api.company_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_company_workspace_connectors();

CREATE TRIGGER company_workspace_connectors_recorded_update AFTER UPDATE ON core_api.company_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_company_workspace_connectors();

CREATE TRIGGER company_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.company_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('company_workspace_connector_id');

CREATE TRIGGER connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('connector_id');

CREATE TRIGGER memberships_touch_row BEFORE INSERT OR UPDATE ON core_api.memberships FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('membership_id');

CREATE TRIGGER people_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.people_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

CREATE TRIGGER people_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.people_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.people_workspace_connectors_parents_agree();

CREATE TRIGGER people_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.people_workspace_connectors FOR EACH ROW WHEN (((old.people_pk IS DISTINCT FROM new.people_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.people_workspace_connectors_parents_agree();

CREATE TRIGGER people_workspace_connectors_recorded_delete AFTER DELETE ON core_api.people_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_people_workspace_connectors();

CREATE TRIGGER people_workspace_connectors_recorded_insert AFTER INSERT ON core_api.people_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_people_workspace_connectors();

CREATE TRIGGER people_workspace_connectors_recorded_update AFTER UPDATE ON core_api.people_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_people_workspace_connectors();

CREATE TRIGGER people_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.people_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('people_workspace_connector_id');

CREATE TRIGGER peoples_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.peoples FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('people_workspace_connectors', 'people_pk');

CREATE TRIGGER peoples_touch_row BEFORE INSERT OR UPDATE ON core_api.peoples FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('person_id');

CREATE TRIGGER providers_touch_row BEFORE INSERT OR UPDATE ON core_api.providers FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('provider_id');

CREATE TRIGGER workspace_connectors_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.workspace_connectors FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('account_workspace_connectors', 'workspace_connector_pk', 'company_workspace_connectors', 'workspace_connector_pk', 'people_workspace_connectors', 'workspace_connector_pk');

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
