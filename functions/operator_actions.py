"""A direct invoke with IAM (never API Gateway) -> the operator's actions: workspaces, people,
connectors and API keys (docs/deploy.md, "The first answer")"""

from wellapi.handlers.operator import operator_handler

handler = operator_handler()
