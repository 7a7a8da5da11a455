"""What the command line and the commands both name: the template parameter and the environment
variable an option stands for. Standard library only, as the command line imports it."""

CORS_PARAMETER = "CorsOrigins"
CORS_ORIGINS_VARIABLE = "WELLAPI_CORS_ORIGINS"
# The loopback port the embedded database listens on for containers (`sam local invoke`).
DB_PORT_VARIABLE = "WELLAPI_DB_PORT"
DEFAULT_DB_PORT = 55432
# The addresses it listens on: loopback by default; on Linux, add the Docker bridge's own.
DB_LISTEN_VARIABLE = "WELLAPI_DB_LISTEN"
DEFAULT_DB_LISTEN = "127.0.0.1"
