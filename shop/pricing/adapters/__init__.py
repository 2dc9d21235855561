"""Adapters behind pricing's ports: ``base`` (the ``TaxProvider`` port), ``table`` (the built-in
rates) and ``http`` (an external tax service). Only pricing's services import them."""
