ALTER TABLE core_api.workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY workspaces_api ON core_api.workspaces TO well_api USING (((pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.memberships m
  WHERE ((m.workspace_pk = workspaces.pk) AND (m.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (m.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_pk = workspaces.pk) AND (e.deleted_at IS NULL) AND (EXISTS ( SELECT 1
           FROM core_api.workspace_group_memberships gm
          WHERE ((gm.workspace_group_pk = e.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL))))))))) WITH CHECK (((pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.memberships m
  WHERE ((m.workspace_pk = workspaces.pk) AND (m.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (m.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_pk = workspaces.pk) AND (e.deleted_at IS NULL) AND (EXISTS ( SELECT 1
           FROM core_api.workspace_group_memberships gm
          WHERE ((gm.workspace_group_pk = e.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))))))));
CREATE POLICY workspaces_drain ON core_api.workspaces FOR SELECT TO well_drain USING (true);
CREATE POLICY workspaces_owner ON core_api.workspaces TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY workspaces_sync ON core_api.workspaces TO well_sync USING (true) WITH CHECK (true);

ALTER TABLE core_api.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY accounts_api ON core_api.accounts TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY accounts_owner ON core_api.accounts TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY accounts_sync ON core_api.accounts TO well_sync USING (true) WITH CHECK (true);

ALTER TABLE core_api.workspace_connectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.workspace_connectors FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_connectors_api ON core_api.workspace_connectors TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY workspace_connectors_owner ON core_api.workspace_connectors TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY workspace_connectors_sync ON core_api.workspace_connectors TO well_sync USING (true) WITH CHECK (true);

ALTER TABLE core_api.peoples ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.peoples FORCE ROW LEVEL SECURITY;
CREATE POLICY peoples_api ON core_api.peoples TO well_api USING (((pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)))) WITH CHECK (((pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))));
CREATE POLICY peoples_owner ON core_api.peoples TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY peoples_sync ON core_api.peoples TO well_sync USING (true) WITH CHECK (true);

ALTER TABLE core_api.change_feed_pruned ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.change_feed_pruned FORCE ROW LEVEL SECURITY;
CREATE POLICY change_feed_pruned_api_read ON core_api.change_feed_pruned FOR SELECT TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY change_feed_pruned_owner ON core_api.change_feed_pruned TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY change_feed_pruned_sync ON core_api.change_feed_pruned TO well_sync USING (true) WITH CHECK (true);

ALTER TABLE core_api.change_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.change_records FORCE ROW LEVEL SECURITY;
CREATE POLICY change_records_api_read ON core_api.change_records FOR SELECT TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY change_records_drain_mark ON core_api.change_records FOR UPDATE TO well_drain USING ((sent_at IS NULL)) WITH CHECK (((sent_at >= now()) AND (sent_at <= clock_timestamp())));
CREATE POLICY change_records_drain_read ON core_api.change_records FOR SELECT TO well_drain USING (true);
CREATE POLICY change_records_owner ON core_api.change_records TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY change_records_sync_insert ON core_api.change_records FOR INSERT TO well_sync WITH CHECK (((resource_type = 'workspace_connector'::text) AND (actor_kind = ANY (ARRAY['sync'::text, 'sweep'::text])) AND (actor_person_pk IS NULL)));
CREATE POLICY change_records_sync_prune ON core_api.change_records FOR DELETE TO well_sync USING ((sent_at < (now() - '30 days'::interval)));
CREATE POLICY change_records_sync_prune_read ON core_api.change_records FOR SELECT TO well_sync USING ((sent_at < (now() - '30 days'::interval)));

ALTER TABLE core_api.companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.companies FORCE ROW LEVEL SECURITY;
CREATE POLICY companies_api ON core_api.companies TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY companies_owner ON core_api.companies TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY companies_sync ON core_api.companies TO well_sync USING (true) WITH CHECK (true);

ALTER TABLE core_api.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_api ON core_api.memberships TO well_api USING (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)))) WITH CHECK (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))));
CREATE POLICY memberships_owner ON core_api.memberships TO CURRENT_USER USING (true) WITH CHECK (true);

ALTER TABLE core_api.workspace_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.workspace_groups FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_groups_api ON core_api.workspace_groups TO well_api USING (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_groups.pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_group_pk = workspace_groups.pk) AND (e.workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) AND (e.deleted_at IS NULL)))))) WITH CHECK (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_groups.pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_group_pk = workspace_groups.pk) AND (e.workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) AND (e.deleted_at IS NULL))))));
CREATE POLICY workspace_groups_owner ON core_api.workspace_groups TO CURRENT_USER USING (true) WITH CHECK (true);

ALTER TABLE core_api.workspace_group_memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.workspace_group_memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_group_memberships_api ON core_api.workspace_group_memberships TO well_api USING (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY workspace_group_memberships_owner ON core_api.workspace_group_memberships TO CURRENT_USER USING (true) WITH CHECK (true);

ALTER TABLE core_api.workspace_group_workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.workspace_group_workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_group_workspaces_api ON core_api.workspace_group_workspaces TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL))))));
CREATE POLICY workspace_group_workspaces_api_insert ON core_api.workspace_group_workspaces AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK (((deleted_at IS NULL) AND (created_at = now()) AND (created_by_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND core_api.may_enrol(workspace_group_pk, workspace_pk)));
CREATE POLICY workspace_group_workspaces_api_update ON core_api.workspace_group_workspaces AS RESTRICTIVE FOR UPDATE TO well_api USING ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.role = ANY (ARRAY['owner'::core_api.workspace_group_role_enum, 'admin'::core_api.workspace_group_role_enum])) AND (gm.deleted_at IS NULL))))) AND (deleted_at IS NULL))) WITH CHECK ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.role = ANY (ARRAY['owner'::core_api.workspace_group_role_enum, 'admin'::core_api.workspace_group_role_enum])) AND (gm.deleted_at IS NULL))))) AND (deleted_at IS NOT NULL)));
CREATE POLICY workspace_group_workspaces_owner ON core_api.workspace_group_workspaces TO CURRENT_USER USING (true) WITH CHECK (true);

ALTER TABLE core_api.workspace_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE core_api.workspace_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_providers_api ON core_api.workspace_providers TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));
CREATE POLICY workspace_providers_api_insert ON core_api.workspace_providers AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk))) AND (deleted_at IS NULL) AND (created_at = now()) AND (EXISTS ( SELECT 1
   FROM core_api.workspaces p
  WHERE ((p.pk = workspace_providers.workspace_pk) AND (p.deleted_at IS NULL)))) AND (EXISTS ( SELECT 1
   FROM core_api.providers p
  WHERE ((p.pk = workspace_providers.provider_pk) AND (p.deleted_at IS NULL))))));
CREATE POLICY workspace_providers_api_update ON core_api.workspace_providers AS RESTRICTIVE FOR UPDATE TO well_api USING ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk))) AND (deleted_at IS NULL))) WITH CHECK ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk))) AND ((deleted_at IS NULL) OR (NOT is_selected))));
CREATE POLICY workspace_providers_owner ON core_api.workspace_providers TO CURRENT_USER USING (true) WITH CHECK (true);
