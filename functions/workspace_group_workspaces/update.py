"""PATCH /v1/workspace-group-workspaces/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import UPDATE

handler = api_handler("workspace_group_workspaces", UPDATE)
