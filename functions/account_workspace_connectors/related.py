"""GET /v1/account-workspace-connectors/{id}/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATED

handler = api_handler("account_workspace_connectors", RELATED)
