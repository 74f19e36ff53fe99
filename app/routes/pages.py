"""The playground page.

`GET /` starts a new session from the settings in its query (app/urlstate.py) and the page
then names it in its address, `/s/{id}?<settings>`: reloading that address, or opening
it in another tab or on a projector, attaches to the same session. An address whose
session no longer exists says so and starts a new one from the settings in its query.

A page view's new session is provisional (app/store.py `Sessions.create`): held in memory,
not written, not counted toward `max_sessions`, dropped within `provisional_seconds` unless
the page's script claims it (its socket connects, or it changes something). A crawler or a
cross-site ``<img src="/">`` therefore cannot fill the server.
"""

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import exercise as exercises
from app import ui_table, urlstate
from app.errors import AppError, SessionNotFound
from app.limits import client_address
from app.templating import templates

router = APIRouter()


def _render(request: Request, session, view: dict, notice: str = "") -> HTMLResponse:
    from app.routes.ui import page_url

    return templates.TemplateResponse(
        request, "index.html",
        {"session": session, "view": view, "notice": notice,
         "page_url": page_url(session.to_dict(), view)})


def _unavailable(exc: AppError) -> HTMLResponse:
    """A page (not JSON: a person opened it) saying why there is no playground now."""
    text = html.escape(exc.message)
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>nnplay</title>'
        f"</head><body><h1>nnplay</h1><p>{text}</p><p>Reload this page in a moment.</p>"
        "</body></html>", status_code=exc.status)


async def _create(store, state: urlstate.UrlState, provisional_for: str):
    """A new session from a link's settings: the model and dataset, then the link's
    training settings (batch size, speed), which live beside them, and its exercise, if it
    is one. It is a page view's,
    provisional until the page claims it (`provisional_for`: the client's address)."""
    session = await store.create(model=state.model, dataset=state.dataset,
                                 provisional_for=provisional_for)
    # A teacher's link (`hide=`, `lock=`, `note=`) makes the new session an exercise; so does
    # the address of an exercise's page whose session is gone (it carries them too).
    exercise = exercises.from_view(state.view)
    if exercise:
        session.set_exercise(exercise)
    training = {s.name: state.values[s.name] for s in ui_table.SETTINGS
                if s.home == "training" and s.live}
    if any(session.training.get(s.path[-1]) != training[s.name] for s in ui_table.SETTINGS
           if s.name in training):
        session.set_training(**training)
    return session


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def read_page(request: Request) -> HTMLResponse:
    """Render the playground with a new session; the query string sets its configuration."""
    state = urlstate.parse(request.query_params)
    try:
        session = await _create(request.app.state.store, state,
                                provisional_for=client_address(request.scope))
    except AppError as exc:  # the store out of reach, the server full
        return _unavailable(exc)
    return _render(request, session, state.view)


API_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnplay API</title></head>
<body><h1>nnplay API</h1>
<p>The API is described by its OpenAPI document, <a href="/openapi.json">/openapi.json</a>
(open it in any OpenAPI viewer or client generator), and in words in the project's
<code>docs/PROTOCOL.md</code>.</p>
<p>Interactive pages (Swagger UI, ReDoc) are not served: they load their scripts from a CDN,
and nnplay works offline and runs no script from elsewhere.</p>
</body></html>
"""


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
@router.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
def read_api_docs() -> HTMLResponse:
    """Where the API's description is: /openapi.json (the interactive pages are off)."""
    return HTMLResponse(API_DOCS)


@router.get("/s/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def read_session_page(request: Request, session_id: str) -> HTMLResponse:
    """The playground attached to session `session_id` (the query gives the view: hidden
    controls, plot options); a session that no longer exists is replaced by a new one
    from the settings in the query, and the page says so."""
    state = urlstate.parse(request.query_params)
    store = request.app.state.store
    try:
        session = await store.get(session_id)
    except SessionNotFound:
        try:
            session = await _create(store, state, provisional_for=client_address(request.scope))
        except AppError as exc:
            return _unavailable(exc)
        notice = ("The session in this address no longer exists (it expired or was "
                  "deleted): this is a new one, with the settings the address carried.")
        return _render(request, session, state.view, notice)
    except AppError as exc:  # the store out of reach, the session moving between replicas
        return _unavailable(exc)
    # The link's settings are the session's own: problems in them are not news here.
    return _render(request, session, {**state.view, "url_errors": []})
