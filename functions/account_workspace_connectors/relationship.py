"""GET /v1/account-workspace-connectors/{id}/relationships/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATIONSHIP

handler = api_handler("account_workspace_connectors", RELATIONSHIP)
