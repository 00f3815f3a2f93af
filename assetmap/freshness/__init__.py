"""Listings that stay true: when each asset was last checked, and what follows from it."""
