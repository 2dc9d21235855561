"""Payments infrastructure: the card gateways behind one port, and the retried, breaker-guarded calls to them."""
