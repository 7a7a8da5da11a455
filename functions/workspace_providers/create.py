"""POST /v1/workspace-providers"""

from wellapi.http import api_handler

handler = api_handler("workspace_providers", "create")
