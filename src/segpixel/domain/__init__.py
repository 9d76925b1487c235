"""Pure rules of the product: no I/O, no imports of our other packages."""
