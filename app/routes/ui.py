"""htmx endpoints of the control panel: each posts a form and answers with a partial."""

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
