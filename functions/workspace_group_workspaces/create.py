"""POST /v1/workspace-group-workspaces"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import CREATE

handler = api_handler("workspace_group_workspaces", CREATE)
