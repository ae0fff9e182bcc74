"""The HTTP API (`twinning.api`): thin FastAPI routers over the domain services."""
