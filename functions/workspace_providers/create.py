"""POST /v1/workspace-providers"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import CREATE

handler = api_handler("workspace_providers", CREATE)
