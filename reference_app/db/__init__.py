"""Database access: the libsql-client transport, the SQL repository and round-trip counting."""
