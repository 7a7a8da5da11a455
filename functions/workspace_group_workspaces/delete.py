"""DELETE /v1/workspace-group-workspaces/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import DELETE

handler = api_handler("workspace_group_workspaces", DELETE)
