"""Read-only HTTP API over the article store (FastAPI); see api.app."""
