"""DELETE /v1/workspace-groups/{workspace_group_id}/workspaces/{workspace_id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.nested import UNENROL

handler = api_handler("workspace_group_workspaces", UNENROL)
