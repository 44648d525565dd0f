"""The slots HTTP API (Powertools' HTTP API resolver with request validation), one module per concern:

- ``resolver``:  the ``app``, its middlewares, and the one place errors become HTTP responses.
- ``routes``:    one module per resource: ``slots`` (/slots), ``series`` (/series...), ``seasons`` (/seasons...),
                 ``reference`` (/cars, /tracks, /car-classes), ``plan`` (/calendar.ics), ``planner`` (/seasons?at,
                 /purchase-guide, a week's forecast), ``docs`` (/openapi.json, /docs), ``page`` (/, the
                 planner page, kept in ``api/page``), ``changes`` (/changes, /changes.atom).
- ``params``:    parameter types, windows, filters, zones, and the unknown-parameter check.
- ``paging``:    keyset cursors and page bodies.
- ``caching``:   Cache-Control, ETag and conditional GET.
- ``schedules``: stored seasons and series read for an answer (or 404), and their slots in a window.
- ``answers``:   answer bodies from records (shapes declared in ``models.http``) and calendar feeds.
- ``guide``:     iRacing's race guide (session IDs, entry counts, iRacing's ends) laid on the slots an answer shows.
- ``encoding``:  slots as JSON text, each week's part encoded once (a window's answer is thousands of slots).
- ``openapi``:   the OpenAPI document as this API really answers.

The answer shapes (``models.http``) and the OpenAPI models are imported where an answer needs them, off the cold
start: tests/unit/test_imports.py lists what each function's import must not load.
"""

from iracing_sync.api.resolver import app
from iracing_sync.api.routes import changes, docs, page, plan, planner, reference, seasons, series, slots

__all__ = ["app", "changes", "docs", "page", "plan", "planner", "reference", "seasons", "series", "slots"]
