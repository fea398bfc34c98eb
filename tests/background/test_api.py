"""The BackgroundTasks API: typed arguments and helpful errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from microready import BackgroundTask, BackgroundTasks


async def send_email(address: str, subject: str = "") -> None:
    pass


def test_add_task_rejects_a_coroutine_and_shows_the_right_call() -> None:
    tasks = BackgroundTasks()
    with pytest.raises(TypeError) as caught:
        tasks.add_task(send_email("foo@example.com"))  # type: ignore[arg-type]
    message = str(caught.value)
    assert "wrong: add_task(send_email(" in message
    assert "right: add_task(send_email, " in message
    assert len(tasks) == 0


@pytest.mark.parametrize("not_callable", [None, 42, "send_email"])
def test_add_task_rejects_anything_not_callable(not_callable: object) -> None:
    with pytest.raises(TypeError, match=r"needs a function to call later"):
        BackgroundTasks().add_task(not_callable)  # type: ignore[arg-type]


def test_background_task_rejects_a_coroutine_too() -> None:
    with pytest.raises(TypeError, match=r"right: BackgroundTask\(send_email, "):
        BackgroundTask(send_email("x"))  # type: ignore[arg-type]


def test_tasks_keep_their_order_and_know_if_they_are_async() -> None:
    def write_log(line: str) -> None:
        pass

    tasks = BackgroundTasks()
    tasks.add_task(write_log, "one")
    tasks.add_task(send_email, "foo@example.com", subject="hi")
    assert [(t.name.rsplit(".", 1)[-1], t.is_async) for t in tasks] == [
        ("write_log", False),
        ("send_email", True),
    ]
    assert tasks.tasks[1].args == ("foo@example.com",)
    assert tasks.tasks[1].kwargs == {"subject": "hi"}


def test_mypy_strict_flags_arguments_that_do_not_fit_the_task(tmp_path: Path) -> None:
    source = tmp_path / "bad_task_arguments.py"
    source.write_text(
        textwrap.dedent(
            """
            from microready import BackgroundTask, BackgroundTasks

            def write_notification(email: str, message: str = "") -> None: ...

            def queue(tasks: BackgroundTasks) -> None:
                tasks.add_task(write_notification, "a@b.c", message="fine")
                tasks.add_task(write_notification, 42)
                tasks.add_task(write_notification, "a@b.c", mesage="typo")
                BackgroundTask(write_notification, email=["not", "a", "str"])
            """
        )
    )
    stdout, _, status = mypy_api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(source)]
    )
    errors = [
        line for line in stdout.splitlines() if ": error:" in line and line.startswith(str(source))
    ]
    assert status == 1
    # Exactly the three wrong calls, and not the right one.
    assert [int(line.split(":")[1]) for line in errors] == [8, 9, 10], stdout
