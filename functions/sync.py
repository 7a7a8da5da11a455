"""SQS SyncQueue -> the connector sync writer (batches, partial batch failures)"""

from wellapi.sync.handler import sync_handler

handler = sync_handler()
