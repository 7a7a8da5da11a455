"""GET /v1/account-workspace-connectors/{id}/relationships/{relationship}"""

from wellapi.http import api_handler

handler = api_handler("account_workspace_connectors", "relationship")
