"""GET /v1/workspace-group-workspaces"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import LIST

handler = api_handler("workspace_group_workspaces", LIST)
