"""Database roles. Migrations create them; each connects only as what it needs to be.

- ``well_api``: the API functions. Owns nothing, has no BYPASSRLS, may not DELETE.
- ``well_sync``: the connector sync writer of the provenance ledgers.
- the owner: whoever runs the migrations (the RDS master or a migrator role).
"""

API_ROLE = "well_api"
SYNC_ROLE = "well_sync"
APP_ROLES = (API_ROLE, SYNC_ROLE)
