"""GET /v1/changes"""

from wellapi.handlers.api import api_handler
from wellapi.operations.feed import FEED

handler = api_handler("changes", FEED)
