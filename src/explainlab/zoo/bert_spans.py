"""Twin recipes: (to be written)."""
