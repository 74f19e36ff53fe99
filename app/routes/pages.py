"""The playground page: `GET /` renders it with a fresh session built from the URL."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import urlstate
from app.templating import templates

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def read_page(request: Request) -> HTMLResponse:
    """Render the playground; the query string (see app/urlstate.py) sets its configuration."""
    state = urlstate.parse(request.query_params)
    session = request.app.state.store.create(model=state.model, dataset=state.dataset)
    return templates.TemplateResponse(
        request,
        "index.html",
        {"session": session, "view": state.view},
    )
