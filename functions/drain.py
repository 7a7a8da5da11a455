"""Schedule -> the change drainer (publishes the outbox to EventBridge, in order, once)"""

from wellapi.handlers.drain import drain_handler

handler = drain_handler()
