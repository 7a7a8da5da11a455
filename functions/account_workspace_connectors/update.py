"""PATCH /v1/account-workspace-connectors/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import UPDATE

handler = api_handler("account_workspace_connectors", UPDATE)
