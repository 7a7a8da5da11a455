"""POST /v1/company-workspace-connectors"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import CREATE

handler = api_handler("company_workspace_connectors", CREATE)
