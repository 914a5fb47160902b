"""The only package that imports pyscard: PC/SC monitor and connections."""
