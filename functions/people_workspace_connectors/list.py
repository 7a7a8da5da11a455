"""GET /v1/people-workspace-connectors"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import LIST

handler = api_handler("people_workspace_connectors", LIST)
