"""GET /v1/company-workspace-connectors/{id}/relationships/{relationship}"""

from wellapi.http import api_handler

handler = api_handler("company_workspace_connectors", "relationship")
