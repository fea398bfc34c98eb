"""The background-tasks tutorial's second example: tasks from a dependency too.

Run it:  python -m microready examples.notifications_with_dependencies:app
Try it:  curl -X POST 'http://127.0.0.1:8000/send-notification/foo@example.com?q=some-query'

The dependency ``get_query`` and the handler receive the same
``BackgroundTasks``; the dependency runs first, so ``log.txt`` gets
"found query: some-query" and then "message to foo@example.com", after the
response has been sent.
"""

from typing import Annotated

from microready import BackgroundTasks, Depends, MicroReady

app = MicroReady()


def write_log(message: str) -> None:
    with open("log.txt", mode="a") as log:
        log.write(message)


def get_query(background_tasks: BackgroundTasks, q: str | None = None) -> str | None:
    if q:
        message = f"found query: {q}\n"
        background_tasks.add_task(write_log, message)
    return q


@app.post("/send-notification/{email}")
async def send_notification(
    email: str, background_tasks: BackgroundTasks, q: Annotated[str | None, Depends(get_query)]
) -> dict[str, str]:
    message = f"message to {email}\n"
    background_tasks.add_task(write_log, message)
    return {"message": "Message sent"}
