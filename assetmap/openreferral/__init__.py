"""Open Referral UK 3.0 (the UK profile of HSDS 3.0): the directory in the standard's shape.

`mapping` turns an asset into an ORUK service (ids from `ids`, terms from `taxonomy`);
`query` reads a request's parameters, `finding` finds the published assets that answer it,
`publish` finds one by its id; assetmap.web.openreferral serves them under /api/oruk/.
"""
