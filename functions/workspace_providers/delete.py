"""DELETE /v1/workspace-providers/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import DELETE

handler = api_handler("workspace_providers", DELETE)
