"""The connector sync pipeline: SQS messages into the three provenance ledgers, exactly once."""
