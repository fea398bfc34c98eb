"""FastAPI tutorial, "Background Tasks" (docs_src/background_tasks/tutorial001-002).

The expected ``log.txt`` contents are the ones FastAPI's own docs tests check.
"""

from pathlib import Path
from typing import Annotated

import pytest

from microready import BackgroundTasks, Depends, MicroReady

from .helpers import client_for

# tutorial001
app001 = MicroReady()


def write_notification(email: str, message: str = "") -> None:
    with open("log.txt", mode="w") as email_file:
        content = f"notification for {email}: {message}"
        email_file.write(content)


@app001.post("/send-notification/{email}")
async def send_notification001(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(write_notification, email, message="some notification")
    return {"message": "Notification sent in the background"}


# tutorial002: tasks from a dependency and from the path operation, merged
app002 = MicroReady()


def write_log(message: str) -> None:
    with open("log.txt", mode="a") as log:
        log.write(message)


def get_query(background_tasks: BackgroundTasks, q: str | None = None) -> str | None:
    if q:
        message = f"found query: {q}\n"
        background_tasks.add_task(write_log, message)
    return q


@app002.post("/send-notification/{email}")
async def send_notification002(
    email: str, background_tasks: BackgroundTasks, q: Annotated[str | None, Depends(get_query)]
) -> dict[str, str]:
    message = f"message to {email}\n"
    background_tasks.add_task(write_log, message)
    return {"message": "Message sent"}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "log.txt"


def test_tutorial001(anyio_backend: str, in_tmp: Path) -> None:
    response = client_for(app001, anyio_backend).post("/send-notification/foo@example.com")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Notification sent in the background"}
    assert in_tmp.read_text() == "notification for foo@example.com: some notification"


def test_tutorial002(anyio_backend: str, in_tmp: Path) -> None:
    response = client_for(app002, anyio_backend).post(
        "/send-notification/foo@example.com?q=some-query"
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Message sent"}
    assert in_tmp.read_text() == "found query: some-query\nmessage to foo@example.com\n"


def test_tutorial002_without_query(anyio_backend: str, in_tmp: Path) -> None:
    client_for(app002, anyio_backend).post("/send-notification/foo@example.com")
    assert in_tmp.read_text() == "message to foo@example.com\n"
