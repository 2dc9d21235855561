"""The HTTP edge shared by every context: errors, pagination, throttles, request ids, health."""
