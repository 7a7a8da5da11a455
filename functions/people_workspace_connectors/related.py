"""GET /v1/people-workspace-connectors/{id}/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATED

handler = api_handler("people_workspace_connectors", RELATED)
