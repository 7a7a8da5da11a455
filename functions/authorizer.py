"""The HTTP API's Lambda REQUEST authorizer: Authorization: Bearer <API key> -> principal"""

from wellapi.auth import authorizer_handler

handler = authorizer_handler()
