"""GET /v1/workspace-providers/{id}/relationships/{relationship}"""

from wellapi.http import api_handler

handler = api_handler("workspace_providers", "relationship")
