"""Request and response schemas of the JSON API and the live stream's client messages.

Names say the role: ``*Create`` / ``*Update`` are request bodies, ``*Public`` answers.
Documents owned by the engine (the model document, the dataset spec, the step trace)
are validated by the engine itself, which names the field at fault; here they are
plain objects with examples.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    create_model,
)

from app import ui_table
from app.errors import BadInput

Number = Annotated[float, Field(strict=True)]
MessageId = str | StrictInt | StrictFloat | None

MODEL_EXAMPLE = {
    "layers": [2, 4, 2, 1], "activation": "tanh", "output_activation": "tanh", "loss": "mse",
    "optimizer": {"name": "sgd", "learning_rate": 0.03}, "init": "uniform", "seed": 1,
}
DATASET_EXAMPLE = {"name": "xor", "n_points": 200, "noise": 10, "seed": 3,
                   "features": ["x1", "x2"]}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- JSON API -------------------------------------------------------------------


class SessionCreate(Strict):
    model: dict[str, Any] | None = Field(None, description="a model document (engine)")
    dataset: dict[str, Any] | None = Field(None, description="a dataset spec (engine)")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model": MODEL_EXAMPLE, "dataset": DATASET_EXAMPLE}]},
    )


class TrainingPublic(BaseModel):
    batch_size: int
    epoch: int
    step: int
    cursor: int = Field(description="index of the next batch within the epoch")
    playing: bool
    sample: dict[str, Any]
    speed: str = Field(description="training pace: epochs a second, or max")
    goal: dict[str, Any] | None = Field(
        None, description="train N epochs / until a test loss: {epochs, until_loss, start_epoch}")


class SessionPublic(BaseModel):
    """The session state document (PROTOCOL.md "Session state")."""

    id: str
    model: dict[str, Any]
    initial_model: dict[str, Any]
    dataset: dict[str, Any]
    training: TrainingPublic
    history: dict[str, Any]
    format: str = Field(description="the session document's format, nnplay.session/2")
    version: int = Field(description="goes up with every change (a page shows the newest)")
    undo: dict[str, Any] | None = Field(
        None, description="what the last data change replaced (Undo puts it back), or null")
    exercise: dict[str, Any] | None = Field(
        None, description="a classroom exercise: {note, hidden, locked} parts of the page "
                          "(changes to them are refused with 403), or null")


class HealthPublic(BaseModel):
    status: Literal["ok"]
    sessions: int = Field(description="sessions held by this process")
    store: str = Field(description="where session documents are kept: sqlite, redis, memory")
    claimed: int = Field(description="sessions counted toward max_sessions (not page views "
                                     "still unclaimed)")
    max_sessions: int = Field(description="claimed sessions held at most; then the least "
                                          "recently used idle one is evicted")
    full: bool = Field(description="at max_sessions with none to evict: a new session "
                                   "would get 503")


class StepCreate(Strict):
    unit: Literal["batch", "sample"] = "batch"

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"unit": "batch"}]})


class ForwardCreate(Strict):
    inputs: list[list[Number]] | None = Field(None, description="rows in feature space")
    points: list[list[Number]] | None = Field(None, description="[x1, x2] rows on the plane")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"points": [[0.5, -1.0], [2.0, 3.0]]},
                                        {"inputs": [[0.5, -1.0]]}]},
    )


class ForwardPublic(BaseModel):
    activations: list[list[list[float]]]
    pre_activations: list[list[list[float]]]
    outputs: list[list[float]]


class WeightUpdate(Strict):
    """A weight (``from`` and ``to``) or a bias (``neuron``) of layer ``layer``."""

    layer: StrictInt
    from_: StrictInt | None = Field(None, alias="from")
    to: StrictInt | None = None
    neuron: StrictInt | None = None
    value: Number

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True,
        json_schema_extra={"examples": [{"layer": 0, "from": 1, "to": 0, "value": 0.25},
                                        {"layer": 1, "neuron": 0, "value": -0.1}]},
    )


class WeightUpdatePublic(BaseModel):
    outputs: list[list[float]] = Field(description="the network's outputs for the selected sample")
    train_loss: float
    test_loss: float
    sample: dict[str, Any]


class GradientCheckPublic(BaseModel):
    """Backpropagation's gradient against central differences, on the current batch."""

    batch: dict[str, Any] = Field(description="the training rows [lo, hi) checked")
    eps: float = Field(description="the central-difference step")
    max_relative_error: float
    checked: int = Field(description="parameters compared (evenly spaced when the model "
                                     "has more than the limit)")
    total: int = Field(description="parameters in the model")
    stopped: str | None = Field(None, description="why the check ended before every "
                                "parameter was compared (its time budget, gradcheck_seconds, "
                                "or the client left); null when it compared them all")
    parameters: list[dict[str, Any]] = Field(
        description="per parameter: parameter, analytic, numeric, relative_error")


class DatasetPublic(BaseModel):
    spec: dict[str, Any]
    task: str
    n_classes: int
    train: dict[str, Any]
    test: dict[str, Any]


# ---- live stream: client messages ------------------------------------------------


class Message(Strict):
    id: MessageId = None


class PlayMessage(Message):
    type: Literal["play"]


class PauseMessage(Message):
    type: Literal["pause"]


class TrainMessage(Message):
    type: Literal["train"]
    epochs: StrictInt
    until_loss: Number | None = None


class GoBackMessage(Message):
    type: Literal["go_back"]


class PingMessage(Message):
    type: Literal["ping"]


class StepMessage(Message):
    type: Literal["step"]
    unit: Literal["epoch", "batch", "sample"] = "epoch"


class SetWeightMessage(Message):
    type: Literal["set_weight"]
    layer: StrictInt
    from_: StrictInt = Field(alias="from")
    to: StrictInt
    value: Number


class SetBiasMessage(Message):
    type: Literal["set_bias"]
    layer: StrictInt
    neuron: StrictInt
    value: Number


def _live_field(name: str):
    """A `set` message field for live setting `name`, typed from the settings table (the
    session then checks the table's bounds, as for every other road in)."""
    s = ui_table.BY_NAME[name]
    kind = {"float": Number, "int": StrictInt}.get(s.kind) or Literal[s.choices]
    return (kind | None, Field(None, description=s.label))


# {"type": "set", <live setting>: value, ...}: one field per live setting of the table.
SetMessage = create_model("SetMessage", __base__=Message, type=(Literal["set"], ...),
                          **{name: _live_field(name) for name in ui_table.LIVE})


class SelectSampleMessage(Message):
    type: Literal["select_sample"]
    split: Literal["train", "test"]
    index: StrictInt


class ResetMessage(Message):
    type: Literal["reset"]
    new_seed: StrictBool = False


ClientMessage = Annotated[
    PlayMessage | PauseMessage | TrainMessage | GoBackMessage | PingMessage | StepMessage
    | SetWeightMessage | SetBiasMessage | SetMessage | SelectSampleMessage | ResetMessage,
    Field(discriminator="type"),
]
MESSAGE_TYPES = ("play", "pause", "train", "go_back", "ping", "step", "set_weight", "set_bias",
                 "set", "select_sample", "reset")
_client_message = TypeAdapter(ClientMessage)


def parse_client_message(raw: Any):
    """A validated client message; raises BadInput (field "type") or pydantic's
    ValidationError (whose first error's location names the field)."""
    if not isinstance(raw, dict):
        raise BadInput("expected a JSON object", "message")
    kind = raw.get("type")
    if kind not in MESSAGE_TYPES:
        raise BadInput(f"unknown message type {kind!r} (known: {', '.join(MESSAGE_TYPES)})",
                       "type")
    return _client_message.validate_python(raw)
