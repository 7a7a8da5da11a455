"""POST /v1/workspaces/{workspace_id}/providers"""

from wellapi.handlers.api import api_handler
from wellapi.operations.nested import SELECT

handler = api_handler("workspace_providers", SELECT)
