"""Applying a mapped inventory feed to a source: the fast PostgreSQL path and a portable one.

The public entry point is the service :func:`inventory.services.feed_apply.inventory_feed_apply`; this
package holds its parts:

- ``common``: the request and result types, feed-safety and SKU-limit settings, exclusion rules;
- ``lines``: raw CSV records and their fingerprints (the "diff before map" of a re-sent feed);
- ``postgres``: stream → map → COPY into a temporary stage → set-based merge, in one transaction;
- ``portable``: the same semantics with batched ``bulk_create(update_conflicts=True)`` (SQLite);
- ``x12_846``: an 846 Inventory Advice as records a mapping template reads.
"""
