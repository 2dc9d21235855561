"""The catalog context's periodic jobs: stock held past its time goes back.

``PERIODIC``: job name → (task name, seconds between runs).

Declared here, beside ``tasks.py``, as plain data: settings read it before Django is set up (when the
tasks module cannot be imported yet) to build celery beat's schedule and the embedded scheduler's.
"""

PERIODIC: dict[str, tuple[str, float]] = {
    "release-expired-reservations": ("shop.catalog.release_expired_reservations", 60.0),
}
