"""The HTTP API's Lambda REQUEST authorizer: Authorization: Bearer <API key> -> principal"""

from wellapi.handlers.authorizer import authorizer_handler

handler = authorizer_handler()
