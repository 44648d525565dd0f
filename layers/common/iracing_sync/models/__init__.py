"""The service's data shapes, one module per audience (imported as ``iracing_sync.models.<room>``):

- ``iracing``: iRacing's bodies as we read them (series/seasons, season_schedule, series, cars, tracks...).
- ``catalog``: series, cars, track configurations and car classes as stored (iRacing's reference bodies).
- ``records``: our own records, what the store keeps and returns, and the ``Slot`` the engine computes.
- ``tasks``: Step Functions task payloads (each Lambda's events and outcomes) and run summaries.
- ``http``: the HTTP API's answers, as its OpenAPI document states them.
- ``base``: what they share (deferred validators, the UTC instant string, one-line validation errors).

Nothing is re-exported here, so a function imports only the shapes it uses (cold starts).
"""
