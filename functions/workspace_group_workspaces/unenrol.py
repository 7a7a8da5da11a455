"""DELETE /v1/workspace-groups/{workspace_group_id}/workspaces/{workspace_id}"""

from wellapi.http import api_handler

handler = api_handler("workspace_group_workspaces", "unenrol")
