"""Supplier and channel REST API over the orders services (DESIGN §5): validate, call one service, serialize."""
