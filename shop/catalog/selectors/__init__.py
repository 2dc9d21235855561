"""Read queries of the catalog: ``products`` (storefront lists, detail, search), ``variants`` (SKU
lookups for other contexts), ``cache`` (the versioned read cache every write invalidates)."""
