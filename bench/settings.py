"""Settings of the benchmark server: the shop's own settings, plus the floor URL, with noise turned down.

Everything that costs time per request in production stays exactly as the shop configures it — the middleware
stack, authentication, throttle classes (hitting the cache), renderers, persistent connections (``CONN_MAX_AGE``,
``CONN_HEALTH_CHECKS``). The floor and every scenario are served by the same process with the same middleware, so
the ratio ``scenario / floor`` measures the shop's code, not a difference in configuration.

What changes, and why:
* ``DEBUG`` off (and the browsable API off with it), as in production.
* Logging at WARNING: the access-log middleware still runs for every request, but writing one JSON line per request
  to a pipe would measure the terminal, not the shop.
* Throttle *rates* very high, so a 429 never fires during a run; the throttle *classes* still run.
* No embedded scheduler (the server has no broker): a periodic job landing in a round would be measured as the
  shop's latency.
"""

from __future__ import annotations

import os

# shop.settings reads these at import time; force them so a developer's shell cannot skew a run.
os.environ["DEBUG"] = "false"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["SHOP_LOG_FORMAT"] = "json"
os.environ["SHOP_EMBEDDED_SCHEDULER"] = "off"
for _scope in ("ANON", "USER", "LOGIN", "LOGIN_ACCOUNT", "LOGIN_ACCOUNT_HOUR", "LOGIN_FAILURES", "REGISTER"):
    os.environ[f"SHOP_THROTTLE_{_scope}"] = "100000000/s"

from shop.settings import *  # noqa: E402, F403
from shop.settings import LOGGING, REST_FRAMEWORK  # noqa: E402

DEBUG = False
ROOT_URLCONF = "bench.urls"
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000000/s")
LOGGING["root"]["level"] = "WARNING"
SHOP_CATALOG_CACHE_BYPASS_HEADER = "X-Bench-No-Cache"
