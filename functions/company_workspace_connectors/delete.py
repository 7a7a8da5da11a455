"""DELETE /v1/company-workspace-connectors/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import DELETE

handler = api_handler("company_workspace_connectors", DELETE)
