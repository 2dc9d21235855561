"""The payments context's periodic jobs: stuck payments are reconciled.

``PERIODIC``: job name → (task name, seconds between runs).

Declared here, beside ``tasks.py``, as plain data: settings read it before Django is set up (when the
tasks module cannot be imported yet) to build celery beat's schedule and the embedded scheduler's.
"""

PERIODIC: dict[str, tuple[str, float]] = {
    "reconcile-stuck-payments": ("shop.payments.reconcile_stuck_payments", 300.0),
}

# Only while the simulated gateway is the shop's: the simulated provider's own clock (tok_delayed_success
# payments clear, and its webhook arrives).
WITH_SIMULATED_GATEWAY: dict[str, tuple[str, float]] = {
    "settle-simulated-payments": ("shop.payments.settle_simulated_payments", 10.0),
}
