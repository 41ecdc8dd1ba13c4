"""HTTP edge: thin endpoints (schema -> service -> schema) and the error table."""
