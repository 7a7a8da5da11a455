"""DELETE /v1/workspaces/{workspace_id}/providers/{provider_id}"""

from wellapi.http import api_handler

handler = api_handler("workspace_providers", "remove")
