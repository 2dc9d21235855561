"""The catalog's HTTP API: ``storefront`` (anonymous reads) and ``staff`` (IsAdminUser writes)."""
