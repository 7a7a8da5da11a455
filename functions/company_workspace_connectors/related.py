"""GET /v1/company-workspace-connectors/{id}/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATED

handler = api_handler("company_workspace_connectors", RELATED)
