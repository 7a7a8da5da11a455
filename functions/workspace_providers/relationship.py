"""GET /v1/workspace-providers/{id}/relationships/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATIONSHIP

handler = api_handler("workspace_providers", RELATIONSHIP)
