"""POST /v1/people-workspace-connectors"""

from wellapi.http import api_handler

handler = api_handler("people_workspace_connectors", "create")
