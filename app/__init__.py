"""nnplay's web layer: a FastAPI app that wraps the engine in per-user sessions."""
