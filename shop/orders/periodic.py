"""The orders context's periodic jobs: unpaid orders expire (payments asked first), owed refunds are retried.

``PERIODIC``: job name → (task name, seconds between runs).

Declared here, beside ``tasks.py``, as plain data: settings read it before Django is set up (when the
tasks module cannot be imported yet) to build celery beat's schedule and the embedded scheduler's.
"""

PERIODIC: dict[str, tuple[str, float]] = {
    "cancel-unpaid-orders": ("shop.orders.cancel_unpaid_orders", 60.0),
    "retry-owed-refunds": ("shop.orders.retry_owed_refunds", 60.0),
}
