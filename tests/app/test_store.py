"""Durable sessions (app/store.py): the session document kept in a store, in process."""

from __future__ import annotations

import asyncio
import sqlite3

import orjson
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.errors import BadInput, SessionNotFound
from app.main import create_app
from app.sessions import SESSION_FORMAT, Session, migrate
from app.store import MemoryBackend, Sessions, SqliteBackend, open_backend
from tests.app.test_sessions import HAND_DATA, HAND_MODEL


def run(coro):
    return asyncio.run(coro)


def settings(tmp_path, **kw) -> Settings:
    return Settings(store=f"sqlite:///{tmp_path / 'store.db'}", **kw)


def test_the_store_is_chosen_by_its_url(tmp_path):
    assert isinstance(open_backend(Settings(store="memory://")), MemoryBackend)
    assert isinstance(open_backend(settings(tmp_path)), SqliteBackend)
    default = open_backend(Settings(data_dir=str(tmp_path / "d")))
    assert isinstance(default, SqliteBackend)
    assert default.path == tmp_path / "d" / "nnplay.db"
    for bad in ("postgres://x", "sqlite://", "nonsense"):
        with pytest.raises(ValueError, match="NNPLAY_STORE"):
            open_backend(Settings(store=bad))


def test_sqlite_is_in_wal_mode(tmp_path):
    SqliteBackend(tmp_path / "w.db")
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_session_outlives_its_process(tmp_path):
    # One Sessions writes; a second one on the same file (a restarted server) reads.
    async def first():
        store = Sessions(settings(tmp_path))
        s = await store.create(model=HAND_MODEL, dataset=HAND_DATA)
        s.step("batch")
        s.set_weight(0, 0, 1, -0.75)
        s.set_training(learning_rate=0.3)
        s.select_sample("test", 1)
        await store.flush()
        doc = s.to_dict()
        await store.close()
        return doc

    async def second(sid):
        store = Sessions(settings(tmp_path))
        s = await store.get(sid)
        doc = s.to_dict()
        await store.close()
        return doc

    before = first_doc = run(first())
    after = run(second(first_doc["id"]))
    assert after == before
    assert after["model"]["weights"][0][0][1] == -0.75
    assert after["model"]["optimizer"]["learning_rate"] == 0.3
    assert after["training"]["step"] == 1 and after["training"]["sample"]["split"] == "test"


def test_training_progress_is_written_by_save_dirty_not_by_flush(tmp_path):
    async def go():
        store = Sessions(settings(tmp_path))
        s = await store.create()
        s.play()
        await store.flush()  # play is a person's change: written
        s.train_chunk(0.01)
        await store.flush()  # training is not: flush leaves it for the saver
        saved = orjson.loads(await store.backend.load(s.id))
        assert saved["training"]["playing"] is True and saved["training"]["step"] == 0
        await store.save_dirty()
        saved = orjson.loads(await store.backend.load(s.id))
        assert saved["training"]["step"] == s.to_dict()["training"]["step"] > 0
        await store.close()

    run(go())


def test_unknown_and_deleted_sessions_are_not_found(tmp_path):
    async def go():
        store = Sessions(settings(tmp_path))
        with pytest.raises(SessionNotFound):
            await store.get("nope")
        s = await store.create()
        await store.delete(s.id)
        with pytest.raises(SessionNotFound):
            await store.get(s.id)
        assert await store.backend.load(s.id) is None
        await store.close()

    run(go())


def test_idle_sessions_expire_from_the_store_too(tmp_path):
    async def go():
        store = Sessions(settings(tmp_path, session_idle_seconds=0.0))
        s = await store.create()
        await asyncio.sleep(0.01)
        gone = await store.sweep()
        assert s.id in gone
        assert await store.backend.load(s.id) is None
        await store.close()

    run(go())


def test_the_store_keeps_at_most_its_bound_the_longest_idle_go_first(tmp_path):
    async def go():
        store = Sessions(settings(tmp_path, store_max_sessions=3))
        made = []
        for _ in range(5):
            made.append(await store.create())
            store.registry.delete(made[-1].id)  # not held: only in the store
        kept = [s.id for s in made if await store.backend.load(s.id) is not None]
        assert kept == [s.id for s in made[-3:]]
        await store.close()

    run(go())


def test_a_fork_copies_the_whole_state_under_a_new_id(tmp_path):
    async def go():
        store = Sessions(settings(tmp_path))
        s = await store.create(model=HAND_MODEL, dataset=HAND_DATA)
        s.step("batch")
        copy = await store.create(doc=s.to_dict())
        a, b = s.to_dict(), copy.to_dict()
        assert b["id"] != a["id"]
        for key in ("model", "dataset", "history", "initial_model"):
            assert b[key] == a[key], key
        assert b["training"]["step"] == 1
        await store.close()

    run(go())


def test_an_old_document_is_migrated_and_an_unknown_one_refused():
    from app.sessions import SessionStore

    doc = SessionStore(Settings()).create().to_dict()
    old = {k: v for k, v in doc.items() if k not in ("format", "undo")}
    assert migrate(old)["format"] == SESSION_FORMAT
    assert Session.from_dict(old).to_dict() == doc
    with pytest.raises(BadInput) as info:
        Session.from_dict({**doc, "format": "nnplay.session/99"})
    assert info.value.field == "format"
    assert "nnplay.session/99" in info.value.message


def test_the_page_address_names_its_session_and_reattaches(tmp_path):
    app = create_app(settings(tmp_path))
    with TestClient(app, base_url="http://localhost") as client:
        r = client.get("/?data=xor")
        sid = app.state.store.registry.sessions()[0].id
        assert f'data-page-url="/s/{sid}?data=xor' in r.text
        client.post(f"/api/sessions/{sid}/step", json={"unit": "batch"})
        r = client.get(f"/s/{sid}?data=xor")
        assert f'data-session-id="{sid}"' in r.text
        assert "no longer exists" not in r.text
        r = client.get("/s/gone-away?data=moons")
        assert "The session in this address no longer exists" in r.text
        assert client.get("/api/sessions/" + sid).json()["training"]["step"] == 1
    # a restart: the same address, the same session
    with TestClient(create_app(settings(tmp_path)), base_url="http://localhost") as client:
        r = client.get(f"/s/{sid}")
        assert f'data-session-id="{sid}"' in r.text
        assert client.get("/api/sessions/" + sid).json()["training"]["step"] == 1


def test_copy_of_this_session_goes_to_a_new_session(tmp_path):
    with TestClient(create_app(settings(tmp_path)), base_url="http://localhost") as client:
        sid = client.post("/api/sessions").json()["id"]
        client.post(f"/api/sessions/{sid}/step", json={"unit": "batch"})
        r = client.post(f"/ui/{sid}/fork", data={"hide": ""})
        target = r.headers["HX-Redirect"]
        assert target.startswith("/s/") and sid not in target
        new = target.split("/")[2].split("?")[0]
        a = client.get(f"/api/sessions/{sid}").json()
        b = client.get(f"/api/sessions/{new}").json()
        assert b["model"]["weights"] == a["model"]["weights"]
        assert b["training"]["step"] == 1


def test_health_names_the_store(tmp_path):
    with TestClient(create_app(settings(tmp_path)), base_url="http://localhost") as client:
        assert client.get("/healthz").json()["store"] == "sqlite"


def test_a_page_view_at_the_session_limit_still_gets_a_page(tmp_path):
    # A page view's session is provisional (not counted, not written until its page claims
    # it): with the one session the limit allows held, the next person still gets a page.
    app = create_app(settings(tmp_path, max_sessions=1))
    with TestClient(app, base_url="http://localhost") as client:
        assert client.post("/api/sessions").status_code == 201
        r = client.get("/?data=xor")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert client.get("/healthz").json()["claimed"] == 1
