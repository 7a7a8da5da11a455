"""POST /v1/account-workspace-connectors"""

from wellapi.http import api_handler

handler = api_handler("account_workspace_connectors", "create")
