"""PATCH /v1/workspace-providers/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import UPDATE

handler = api_handler("workspace_providers", UPDATE)
