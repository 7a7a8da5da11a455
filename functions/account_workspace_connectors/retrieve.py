"""GET /v1/account-workspace-connectors/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import RETRIEVE

handler = api_handler("account_workspace_connectors", RETRIEVE)
