"""POST /v1/workspace-groups/{workspace_group_id}/workspaces"""

from wellapi.handlers.api import api_handler
from wellapi.operations.nested import ENROL

handler = api_handler("workspace_group_workspaces", ENROL)
