"""Listings that stay true: checks, the checking schedule and the coordinators' review queue.

`checks` records that someone confirmed an asset's details (the one way a check is written);
`schedule` says when each asset is next due a check; `queue` lists the assets due. Plain
Python over the database, no Flask: the pages (assetmap/web/review.py), commands and tests
call the same functions.
"""
