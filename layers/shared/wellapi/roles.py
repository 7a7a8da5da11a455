"""Database roles. Migrations create them; each connects only as what it needs to be.

- ``well_api``: the API functions. Owns nothing, has no BYPASSRLS, may not DELETE.
- ``well_sync``: the connector sync writer of the provenance ledgers.
- ``well_auth``: the authorizer. It may only call ``core_api.authenticate_key``, which answers
  a key with a signed scope token (``well_private.scope_token``).
- ``well_drain``: the change drainer. It reads the change records (and the workspaces' public
  ids) and sets their ``sent_at``, nothing else (its grants and the ``change_records_drain_*``
  policies).
- ``well_heal``: sets the others' own defaults back to the deployment's
  (``wellapi.sync.role_defaults``), each as the role itself: it may ``SET ROLE`` to each and
  inherits none of their rights.
- ``well_operator``: the operator function (``wellapi.handlers.operator``). It may only call the
  ``core_api.operator_*()`` functions, each one action that writes its own change records.
- the owner: whoever runs the migrations (the RDS master or a migrator role).
"""

API_ROLE = "well_api"
SYNC_ROLE = "well_sync"
AUTH_ROLE = "well_auth"
DRAIN_ROLE = "well_drain"
OPERATOR_ROLE = "well_operator"
# The roles the functions do their work as: what the healer guards.
APP_ROLES = (API_ROLE, SYNC_ROLE, AUTH_ROLE, DRAIN_ROLE, OPERATOR_ROLE)
HEAL_ROLE = "well_heal"
# Every role the migrations make, each logging in on its own.
DEPLOYED_ROLES = (*APP_ROLES, HEAL_ROLE)
