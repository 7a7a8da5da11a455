"""POST /v1/workspaces/{workspace_id}/providers"""

from wellapi.http import api_handler

handler = api_handler("workspace_providers", "select")
