"""DELETE /v1/workspaces/{workspace_id}/providers/{provider_id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.nested import REMOVE

handler = api_handler("workspace_providers", REMOVE)
