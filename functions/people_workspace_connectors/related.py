"""GET /v1/people-workspace-connectors/{id}/{relationship}"""

from wellapi.http import api_handler

handler = api_handler("people_workspace_connectors", "related")
