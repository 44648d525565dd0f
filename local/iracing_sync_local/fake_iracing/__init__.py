"""A fake iRacing (OAuth server + /data API + S3 links) over real HTTP on 127.0.0.1.

It serves the bundled real samples (data/iracing-samples) with the transport behaviour that matters to a
client: OAuth2 ``password_limited`` with masked secrets, single-use refresh tokens, a rate-limited password
grant, ``{"link", "expires"}`` indirection to unauthenticated, expiring links, ``chunk_info`` bodies split into
chunk files on request, ``x-ratelimit-*`` headers with a plain-text 429, and scriptable faults (status codes,
maintenance pages, slow and truncated bodies). One module per job: server (FakeIracing), oauth, samples,
faults (and the rate limit), links, transport. Used by ``make demo``, the local CLI and the integration tests.
"""

from iracing_sync_local.fake_iracing.oauth import mask
from iracing_sync_local.fake_iracing.samples import SNAPSHOTS, Snapshot
from iracing_sync_local.fake_iracing.server import FakeIracing, RecordedRequest

__all__ = ["SNAPSHOTS", "FakeIracing", "RecordedRequest", "Snapshot", "mask"]
