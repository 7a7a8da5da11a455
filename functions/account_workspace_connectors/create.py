"""POST /v1/account-workspace-connectors"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import CREATE

handler = api_handler("account_workspace_connectors", CREATE)
