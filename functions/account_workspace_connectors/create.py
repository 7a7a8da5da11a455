"""POST /v1/account-workspace-connectors"""

from wellapi.http import api_handler
from wellapi.operations.write import CREATE

handler = api_handler("account_workspace_connectors", CREATE)
