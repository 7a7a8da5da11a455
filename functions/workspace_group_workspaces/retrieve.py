"""GET /v1/workspace-group-workspaces/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import RETRIEVE

handler = api_handler("workspace_group_workspaces", RETRIEVE)
