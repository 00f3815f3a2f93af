"""Open Referral UK 3.0 (the UK profile of HSDS 3.0): the directory in the standard's shape.

`mapping` turns an asset into an ORUK service; assetmap.web.openreferral publishes it.
"""
