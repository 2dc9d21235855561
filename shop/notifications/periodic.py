"""The notifications context's periodic jobs: emails whose send was never queued are queued again.

``PERIODIC``: job name → (task name, seconds between runs).

Declared here, beside ``tasks.py``, as plain data: settings read it before Django is set up (when the
tasks module cannot be imported yet) to build celery beat's schedule and the embedded scheduler's.
"""

PERIODIC: dict[str, tuple[str, float]] = {
    "sweep-queued-notifications": ("shop.notifications.sweep_queued", 300.0),
}
