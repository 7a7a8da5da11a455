"""GET /v1/workspace-providers/{id}/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATED

handler = api_handler("workspace_providers", RELATED)
