"""Inventory API: sources push quantities and prices by SKU and read their variants back."""
