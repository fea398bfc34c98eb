"""The benchmark endpoints on microready, written exactly as a FastAPI user would.

Serve: ``python -m microready benchmarks.apps.microready_app:app --no-access-log``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel

from microready import (
    BackgroundTasks,
    Depends,
    HTTPException,
    MicroReady,
    PlainTextResponse,
    UploadFile,
)
from microready.security import OAuth2PasswordBearer

from . import _tasks

app = MicroReady()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(_tasks.PLAINTEXT)


@app.get("/json")
async def json_message() -> dict[str, str]:
    return _tasks.MESSAGE


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/notify/{email}")
async def notify(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.count_async, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


# notify without its task: what a user writes when there is nothing to queue (no
# BackgroundTasks parameter), so notify's extra time is the whole cost of one task.
@app.post("/notify-none/{email}")
async def notify_none(email: str) -> dict[str, str]:
    _tasks.note_untasked()
    return _tasks.NOTIFIED


@app.post("/notify-sync/{email}")
async def notify_sync(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.count_sync, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/notify-slow/{email}")
async def notify_slow(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.slow_async, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/notify-sync-slow/{email}")
async def notify_sync_slow(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.slow_sync, email)
    _tasks.note_submitted()
    return _tasks.NOTIFIED


@app.post("/upload")
async def upload(file: UploadFile, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(_tasks.read_upload, file)
    _tasks.note_submitted()
    return _tasks.UPLOADED


# POST /users: a Depends chain on an OAuth2 bearer token, a pydantic body, and a
# response model that drops the password.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


class UserIn(BaseModel):
    username: str
    password: str
    email: str
    full_name: str | None = None


class UserOut(BaseModel):
    username: str
    email: str
    full_name: str | None = None


async def token_user(token: Annotated[str, Depends(oauth2_scheme)]) -> str:
    if token != _tasks.TOKEN:
        raise HTTPException(
            status_code=401,
            detail="Invalid authentication credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _tasks.ADMIN


async def current_admin(user: Annotated[str, Depends(token_user)]) -> str:
    if user != _tasks.ADMIN:
        raise HTTPException(status_code=403, detail="Not an administrator")
    return user


@app.post("/users", response_model=UserOut)
async def create_user(user: UserIn, admin: Annotated[str, Depends(current_admin)]) -> Any:
    return user


@app.get("/count")
async def count() -> dict[str, Any]:
    runner = app.background
    return _tasks.counts(
        pending=runner.pending,
        running=runner.running,
        succeeded=runner.succeeded,
        failed=runner.failed,
    )
