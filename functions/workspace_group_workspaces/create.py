"""POST /v1/workspace-group-workspaces"""

from wellapi.http import api_handler

handler = api_handler("workspace_group_workspaces", "create")
