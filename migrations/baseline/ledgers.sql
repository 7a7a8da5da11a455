-- The provenance ledgers of the accounts, the companies and the people of a workspace: each the
-- one definition of well_private.create_ledger() applied to its parent.
SELECT well_private.create_ledger('account', 'accounts', 'account_id');
SELECT well_private.create_ledger('company', 'companies', 'company_id');
SELECT well_private.create_ledger('people', 'peoples', 'person_id');
