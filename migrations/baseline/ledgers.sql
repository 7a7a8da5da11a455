-- The provenance ledgers of the accounts, the companies and the people of a workspace: each the
-- one definition of well_private.create_ledger() applied to its parent.
SELECT well_private.create_ledger('account', 'accounts', 'account_id');
SELECT well_private.create_ledger('company', 'companies', 'company_id');
SELECT well_private.create_ledger('people', 'peoples', 'person_id');
-- Their periods of this year and the next, a year each (the sweeper makes the periods after
-- those, of the deployment's length: core_api.make_ledger_periods_ahead()).
SELECT count(*) FROM well_private.make_ledger_periods('year', now(), now() + interval '1 year');
