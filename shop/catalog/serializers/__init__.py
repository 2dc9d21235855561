"""Input and output shapes of the catalog API, split like the views (``storefront``, ``staff``)."""
