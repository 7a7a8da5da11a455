"""GET /v1/workspace-providers"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import LIST

handler = api_handler("workspace_providers", LIST)
