"""The entry points: one module per kind of Lambda function, each building its handler.

    api         every API function (``api_handler(resource, OPERATION)``; ``functions/api.py``
                names each handler as ``entry_points`` says)
    entry_points  how an API function's Handler names its resource and operation
    authorizer  the HTTP API's REQUEST authorizer
    sync        the SQS-triggered sync function
    sweep       the scheduled revocation sweeper (and the change records' retention)
    drain       the scheduled change drainer (EventBridge)
    operator    the operator's actions, invoked directly with IAM: workspaces, people,
                connectors, API keys
    scheduled   what the two scheduled functions share
    migration   the custom resource (and command) that runs the Alembic migrations

A function file imports one of them (never ``scheduled``) and nothing else of this package:
this module imports nothing, so no function loads another's handler.
"""
