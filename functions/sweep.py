"""Schedule -> the revocation sweeper (soft-deletes revoked connectors' rows in steps)"""

from wellapi.handlers.sweep import sweep_handler

handler = sweep_handler()
