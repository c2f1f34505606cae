"""HTTP hand-over for the office's systems, protected by a bearer token.

GET  /callbacks?office=ID&status=open        -> JSON list of requests (StoredRequest.as_json: times
                                                in UTC and Europe/Berlin, contact_method and contact)
POST /callbacks/{reference}  {"status": "done"}  -> marks a request
The endpoint is off unless CALLBACK_API_TOKEN is set.
"""

from __future__ import annotations

import hmac
import os
from datetime import datetime, timezone

from aiohttp import web

from callbacks.store import CallbackStore, Status

TOKEN_ENV = "CALLBACK_API_TOKEN"


def create_app(store: CallbackStore, token: str) -> web.Application:
    if not token:
        raise ValueError(f"{TOKEN_ENV} is not set: the callback endpoint stays off")

    @web.middleware
    async def require_token(request: web.Request, handler):
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise web.HTTPUnauthorized(text="missing or wrong bearer token")
        return await handler(request)

    async def list_requests(request: web.Request) -> web.Response:
        status = request.query.get("status")
        if status and status not in {s.value for s in Status}:
            raise web.HTTPBadRequest(text="unknown status")
        found = store.list(request.query.get("office"), Status(status) if status else None)
        return web.json_response([r.as_json() for r in found])

    async def mark_request(request: web.Request) -> web.Response:
        try:
            status = Status((await request.json())["status"])
        except (ValueError, KeyError, TypeError):
            raise web.HTTPBadRequest(text='expected {"status": "done" | "unreachable" | "open"}') from None
        if not store.mark(request.match_info["reference"], status, datetime.now(timezone.utc)):
            raise web.HTTPNotFound(text="unknown reference")
        return web.json_response({"reference": request.match_info["reference"], "status": status.value})

    app = web.Application(middlewares=[require_token])
    app.add_routes([web.get("/callbacks", list_requests), web.post("/callbacks/{reference}", mark_request)])
    return app


def main() -> None:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"{TOKEN_ENV} is not set: the callback endpoint stays off.")
        return
    port = int(os.environ.get("CALLBACK_API_PORT", "5057"))
    web.run_app(create_app(CallbackStore(), token), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
