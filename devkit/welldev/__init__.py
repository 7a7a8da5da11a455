"""The local runtime: embedded PostgreSQL, the HTTP server and local invoke (not shipped)."""
