"""Inventory services: the only code that writes inventory (feed apply, images)."""
