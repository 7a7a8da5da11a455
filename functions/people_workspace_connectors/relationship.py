"""GET /v1/people-workspace-connectors/{id}/relationships/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATIONSHIP

handler = api_handler("people_workspace_connectors", RELATIONSHIP)
