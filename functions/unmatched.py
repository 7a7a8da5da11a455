"""$default: every request no route serves (308 to its canonical path, 405 or 404)"""

from wellapi.handlers.unmatched import unmatched_handler

handler = unmatched_handler()
