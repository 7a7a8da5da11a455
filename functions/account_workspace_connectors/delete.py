"""DELETE /v1/account-workspace-connectors/{id}"""

from wellapi.http import api_handler
from wellapi.operations.write import DELETE

handler = api_handler("account_workspace_connectors", DELETE)
