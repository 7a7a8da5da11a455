"""GET /v1/company-workspace-connectors"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import LIST

handler = api_handler("company_workspace_connectors", LIST)
