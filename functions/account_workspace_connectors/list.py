"""GET /v1/account-workspace-connectors"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import LIST

handler = api_handler("account_workspace_connectors", LIST)
