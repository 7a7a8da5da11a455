"""POST /v1/people-workspace-connectors"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import CREATE

handler = api_handler("people_workspace_connectors", CREATE)
