"""Background jobs: queue names, runners (in-process or RQ), job functions, the worker entry."""
