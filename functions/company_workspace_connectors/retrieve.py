"""GET /v1/company-workspace-connectors/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.read import RETRIEVE

handler = api_handler("company_workspace_connectors", RETRIEVE)
