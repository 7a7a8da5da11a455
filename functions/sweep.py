"""Schedule -> the revocation sweeper (soft-deletes revoked connectors' rows in steps)"""

from wellapi.sync.sweep_handler import sweep_handler

handler = sweep_handler()
