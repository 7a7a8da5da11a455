"""GET /v1/workspace-group-workspaces/{id}/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATED

handler = api_handler("workspace_group_workspaces", RELATED)
