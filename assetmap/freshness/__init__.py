"""Listings that stay true: checks, the checking schedule, reminders and residents' reports.

`checks` records that someone confirmed an asset's details (the one way a check is written);
`schedule` says when each asset is next due a check; `queue` lists the assets due;
`organisers` and `moderation` are organisers' signed links, reminders and proposed changes;
`reports` is residents' reports of a problem; `stale` says when a listing was last checked,
in words, and whether it is stale; `report` is the freshness report. Plain Python over the
database, no Flask: the pages (assetmap/web/), commands and tests call the same functions.
"""
