"""SQS SyncQueue -> the connector sync writer (batches, partial batch failures)"""

from wellapi.handlers.sync import sync_handler

handler = sync_handler()
