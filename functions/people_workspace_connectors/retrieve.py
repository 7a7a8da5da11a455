"""GET /v1/people-workspace-connectors/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import RETRIEVE

handler = api_handler("people_workspace_connectors", RETRIEVE)
