"""The HTTP surface: routes, schemas, dependencies, middleware and JSON error handlers."""
