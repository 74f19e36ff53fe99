"""The JSON API under /api (PROTOCOL.md "JSON API"): thin handlers over `Session`."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException

from app import jsonsafe
from app.errors import BadInput, TooLarge
from app.metrics import CONTENT_TYPE
from app.schemas import (
    DATASET_EXAMPLE,
    MODEL_EXAMPLE,
    DatasetPublic,
    ForwardCreate,
    ForwardPublic,
    GradientCheckPublic,
    HealthPublic,
    SessionCreate,
    SessionPublic,
    StepCreate,
    WeightUpdate,
    WeightUpdatePublic,
)
from app.sessions import Session
from app.store import Sessions
from engine.trace import forward_trace_numbers

router = APIRouter()
ERRORS = {
    404: {"description": "no such session"},
    422: {"description": "a field is not valid: `{detail: {field, message}}`"},
}
TOO_LARGE = {413: {"description": "the answer would hold more numbers than the server's "
                                  "limit (max_answer_values)"}}
# What a state-changing request may also get: a refusal by the session's exercise, and the
# client address's rate limit (app/limits.py).
CHANGES = {
    **ERRORS,
    403: {"description": "the session is a classroom exercise that locks this change"},
    429: {"description": "over this client address's rate; `Retry-After` says when to retry"},
}


def get_store(request: Request) -> Sessions:
    return request.app.state.store


async def get_session(session_id: str, request: Request) -> Session:
    """The session, held here or loaded from the store."""
    return await request.app.state.store.get(session_id)


Store = Annotated[Sessions, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("/healthz", response_model=HealthPublic, tags=["health"])
async def read_health(request: Request) -> dict:
    """Liveness: answers at once, whatever the sessions are doing (on the event loop
    itself: no worker thread to wait for while training keeps them busy); 503 when the
    session store cannot be reached. `full` (still 200: the process is well) says a newcomer
    would be refused: every held session is playing with a page open."""
    store = request.app.state.store
    await store.backend.ping()
    return {"status": "ok", "sessions": len(store), "store": store.backend.kind,
            **store.capacity()}


@router.get("/metrics", response_class=Response, tags=["health"],
            responses={200: {"content": {CONTENT_TYPE: {}}}})
def read_metrics(request: Request) -> Response:
    """This process's metrics in the Prometheus text format: sessions held and playing,
    frames sent, epochs trained, the store's read and write latency, lease moves."""
    return Response(request.app.state.store.metrics.render(), media_type=CONTENT_TYPE)


@router.post("/api/sessions", status_code=status.HTTP_201_CREATED,
             response_model=SessionPublic, tags=["sessions"],
             responses={**ERRORS, 429: CHANGES[429],
                        503: {"description": "the server holds too many sessions"}})
async def create_session(store: Store, body: SessionCreate | None = None) -> dict:
    """A new session; the model and dataset default to the page's (the settings table's)."""
    body = body or SessionCreate()
    return (await store.create(model=body.model, dataset=body.dataset)).to_dict()


@router.get("/api/sessions/{session_id}", response_model=SessionPublic, tags=["sessions"],
            responses=ERRORS)
def read_session(session: SessionDep) -> dict:
    return session.to_dict()


@router.delete("/api/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
               tags=["sessions"], responses={**ERRORS, 429: CHANGES[429]})
async def delete_session(session_id: str, store: Store) -> Response:
    await store.delete(session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/sessions/{session_id}/model", tags=["model"], responses=ERRORS)
def read_model(session: SessionDep) -> dict[str, Any]:
    """The model document (export): load it with `engine.Network.from_dict`."""
    return session.network.to_dict()


@router.put("/api/sessions/{session_id}/model", response_model=SessionPublic, tags=["model"],
            responses=CHANGES)
def replace_model(session: SessionDep,
                  doc: Annotated[dict[str, Any], Body(examples=[MODEL_EXAMPLE])]) -> dict:
    """Import a model document; it becomes the model `reset` returns to."""
    session.replace_model(doc)
    return session.to_dict()


@router.post("/api/sessions/{session_id}/step", tags=["training"],
             responses={**CHANGES, **TOO_LARGE})
def step_session(session: SessionDep, body: StepCreate | None = None) -> dict[str, Any]:
    """One traced optimizer update on the current batch or the selected sample; 413 (field
    `unit`) when its trace would be larger than `max_answer_values`, before any work."""
    return session.step((body or StepCreate()).unit)  # its size checked first (413)


@router.get("/api/sessions/{session_id}/gradient-check", response_model=GradientCheckPublic,
            tags=["training"], responses=ERRORS)
async def check_gradients(session: SessionDep, request: Request) -> dict:
    """Compare backpropagation's gradient of the objective on the current batch with
    central differences, parameter by parameter (the model is left unchanged). It stops
    after `gradcheck_seconds` or when the client leaves, answering what it checked
    (`stopped` says why)."""
    deadline = time.monotonic() + request.app.state.settings.gradcheck_seconds
    cancel = threading.Event()  # set when the client leaves, or this request is cancelled
    stopping = request.app.state.stopping  # set when the server begins to shut down

    def work() -> dict:
        return session.gradient_check(
            deadline=deadline, cancelled=lambda: cancel.is_set() or stopping.is_set())

    check = asyncio.ensure_future(anyio.to_thread.run_sync(work, abandon_on_cancel=True))
    gone = asyncio.ensure_future(_client_left(request))
    try:
        await asyncio.wait({check, gone}, return_when=asyncio.FIRST_COMPLETED)
        cancel.set()  # the client left (or the check is done: no effect)
        return await check
    finally:
        # Also on cancellation (the server shutting down): the worker thread ends at its
        # next parameter instead of running its whole budget.
        cancel.set()
        gone.cancel()


async def _client_left(request: Request) -> None:
    """Returns once the client has closed the connection."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


@router.post("/api/sessions/{session_id}/forward", response_model=ForwardPublic,
             tags=["training"], responses={**ERRORS, 429: CHANGES[429], **TOO_LARGE})
def forward_session(session: SessionDep, request: Request, body: ForwardCreate) -> dict:
    """Every layer's activations for the given inputs (feature space) or plane points;
    413 (field `inputs` or `points`) when the answer would be larger than
    `max_answer_values`, before any work."""
    field, rows = ("points", body.points) if body.inputs is None else ("inputs", body.inputs)
    if isinstance(rows, list):
        numbers = forward_trace_numbers(session.network.layers, len(rows))
        _within_limit(request, numbers, field, f"{len(rows)} rows answer",
                      "send fewer rows at a time")
    return session.forward(inputs=body.inputs, points=body.points)


def _within_limit(request: Request, numbers: int, field: str, what: str, hint: str) -> None:
    limit = request.app.state.settings.max_answer_values
    if numbers > limit:
        raise TooLarge(f"{what} of about {numbers:,} numbers, over the server's limit of "
                       f"{limit:,} (max_answer_values): {hint}", field)


@router.patch("/api/sessions/{session_id}/weights", response_model=WeightUpdatePublic,
              tags=["model"], responses=CHANGES)
def update_weight(session: SessionDep, body: WeightUpdate) -> dict:
    """Set one weight (`from`, `to`) or one bias (`neuron`); answers the recomputed outputs
    and losses."""
    if body.neuron is not None:
        if body.from_ is not None or body.to is not None:
            raise BadInput("give either from and to (a weight) or neuron (a bias)", "neuron")
        session.set_bias(body.layer, body.neuron, body.value)
    else:
        for name, value in (("from", body.from_), ("to", body.to)):
            if value is None:
                raise BadInput("missing (or give neuron for a bias)", name)
        session.set_weight(body.layer, body.from_, body.to, body.value)
    with session.lock:
        sample = session.sample_values()
        train_loss, test_loss = session.losses()
    return {"outputs": [sample["a"][-1]], "train_loss": train_loss, "test_loss": test_loss,
            "sample": sample}


def _wants_csv(request: Request, fmt: str | None) -> bool:
    return fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("accept", ""))


@router.get("/api/sessions/{session_id}/dataset", response_model=DatasetPublic,
            tags=["dataset"], responses={**ERRORS, 200: {"content": {"text/csv": {}}}})
def read_dataset(session: SessionDep, request: Request,
                 format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None):
    """The dataset's points and labels (JSON), or CSV (`x1,x2,label`, train then test)."""
    if _wants_csv(request, format):
        return PlainTextResponse(session.dataset_csv(), media_type="text/csv")
    return session.dataset_dict()


@router.put("/api/sessions/{session_id}/dataset", response_model=SessionPublic,
            tags=["dataset"], responses={**CHANGES, 413: {"description": "over the size limit"}},
            openapi_extra={"requestBody": {"content": {
                "application/json": {"example": DATASET_EXAMPLE},
                "text/csv": {"example": "x1,x2,label\n0.5,-1,1\n-2,3,0\n1,1,1\n-1,-1,0\n"},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "string", "format": "binary"}}}},
            }}})
async def replace_dataset(session: SessionDep, request: Request) -> dict:
    """Replace the dataset: a spec (JSON), or a CSV file as the body or a form field `file`."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException as e:  # Starlette's answer to a form it cannot read: a bare 400
            raise BadInput(f"not a readable form ({e.detail})", "file") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadInput("expected a CSV file in the form field 'file'", "file")
        text = _decode(await upload.read(), "file")
        return await _run(request, session.replace_dataset_csv, text)
    body = await request.body()
    if kind in ("text/csv", "text/plain"):
        return await _run(request, session.replace_dataset_csv, _decode(body, "body"))
    spec = jsonsafe.loads(body or b"null", "body")  # BadInput: not JSON, or nested too deep
    return await _run(request, session.replace_dataset, spec)


def _decode(data: bytes, field: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the file is not UTF-8 text", field) from None


async def _run(request: Request, fn, *args) -> dict:
    from starlette.concurrency import run_in_threadpool

    def work():
        fn(*args)
        return fn.__self__.to_dict()

    return await run_in_threadpool(work)
