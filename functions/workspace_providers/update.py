"""PATCH /v1/workspace-providers/{id}"""

from wellapi.http import api_handler

handler = api_handler("workspace_providers", "update")
