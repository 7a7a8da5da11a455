"""GET /v1/workspace-group-workspaces/{id}/relationships/{relationship}"""

from wellapi.http import api_handler

handler = api_handler("workspace_group_workspaces", "relationship")
