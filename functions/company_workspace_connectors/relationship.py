"""GET /v1/company-workspace-connectors/{id}/relationships/{relationship}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.related import RELATIONSHIP

handler = api_handler("company_workspace_connectors", RELATIONSHIP)
