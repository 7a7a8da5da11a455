"""PATCH /v1/account-workspace-connectors/{id}"""

from wellapi.http import api_handler
from wellapi.operations.write import UPDATE

handler = api_handler("account_workspace_connectors", UPDATE)
