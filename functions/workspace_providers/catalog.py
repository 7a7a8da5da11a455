"""GET /v1/workspaces/{workspace_id}/providers"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import CATALOG

handler = api_handler("workspace_providers", CATALOG)
