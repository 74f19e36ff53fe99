"""The live WebSocket at /api/sessions/{id}/stream (PROTOCOL.md; logic in app/live.py)."""

from fastapi import APIRouter, WebSocket

router = APIRouter()


@router.websocket("/api/sessions/{session_id}/stream")
async def stream_session(websocket: WebSocket, session_id: str) -> None:
    await websocket.app.state.live.serve(websocket, session_id)
