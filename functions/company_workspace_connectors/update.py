"""PATCH /v1/company-workspace-connectors/{id}"""

from wellapi.handlers.api import api_handler
from wellapi.operations.write import UPDATE

handler = api_handler("company_workspace_connectors", UPDATE)
