"""GET /v1/workspace-providers/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import RETRIEVE

handler = api_handler("workspace_providers", RETRIEVE)
