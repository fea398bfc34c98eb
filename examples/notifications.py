"""The background-tasks tutorial's first example, on microready.

Run it:  python -m microready examples.notifications:app
Try it:  curl -X POST http://127.0.0.1:8000/send-notification/foo@example.com

The response comes back at once; ``log.txt`` gets its line after the response
has been sent, from a worker thread (``write_notification`` is a plain ``def``).
"""

from microready import BackgroundTasks, MicroReady

app = MicroReady()


def write_notification(email: str, message: str = "") -> None:
    with open("log.txt", mode="w") as email_file:
        content = f"notification for {email}: {message}"
        email_file.write(content)


@app.post("/send-notification/{email}")
async def send_notification(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(write_notification, email, message="some notification")
    return {"message": "Notification sent in the background"}
