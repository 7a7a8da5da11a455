"""GET /v1/workspace-providers/{id}/{relationship}"""

from wellapi.http import api_handler

handler = api_handler("workspace_providers", "related")
