"""How a call reaches a context: in-process, or over signed HTTP to a split-out service.

``lookup`` binds a Protocol to its implementation; ``client``/``server`` are the two ends of the internal
HTTP transport (``codec`` encodes calls, ``signing`` and ``replay`` authenticate them, ``breaker`` guards
them, ``inprocess`` serves them from this process in tests); ``gateway`` is the public entry point of a
split shop. Nothing here knows the event bus (``shop.registry.bus``), and the bus knows nothing of this.
"""
