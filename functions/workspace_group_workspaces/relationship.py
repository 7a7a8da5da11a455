"""GET /v1/workspace-group-workspaces/{id}/relationships/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATIONSHIP

handler = api_handler("workspace_group_workspaces", RELATIONSHIP)
