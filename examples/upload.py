"""Upload a file, get 202 Accepted at once, and let a background task process it.

Run it:  python -m microready examples.upload:app --max-body-size 104857600
Try it:  curl -F file=@big.log http://127.0.0.1:8000/uploads/
         curl http://127.0.0.1:8000/uploads/1

The upload is parsed as it streams in; past 1 MiB it is spooled to an anonymous
temporary file, so memory stays flat whatever the file's size. The handler only
hands the ``UploadFile`` to ``add_task``: the file stays open until the task has
read it, and is closed (its temporary file gone) after the request's tasks
finish. ``count_lines`` is a plain ``def``: it runs in a worker thread of the
background runner, reading 64 KiB at a time, never on the event loop.
(``--max-body-size`` raises the server's 10 MiB default for bodies.)
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from microready import BackgroundTasks, HTTPException, MicroReady, UploadFile, status

app = MicroReady()

_ids = itertools.count(1)
_lock = threading.Lock()  # the task writes from a worker thread, the handlers read on the loop
results: dict[int, dict[str, Any]] = {}


def count_lines(upload_id: int, upload: UploadFile) -> None:
    upload.file.seek(0)
    lines = size = 0
    for chunk in iter(lambda: upload.file.read(64 * 1024), b""):
        lines += chunk.count(b"\n")
        size += len(chunk)
    with _lock:
        results[upload_id] = {
            "id": upload_id, "filename": upload.filename, "status": "done",
            "bytes": size, "lines": lines,
        }


@app.post("/uploads/", status_code=status.HTTP_202_ACCEPTED)
async def create_upload(file: UploadFile, background_tasks: BackgroundTasks) -> dict[str, Any]:
    upload_id = next(_ids)
    with _lock:
        results[upload_id] = {"id": upload_id, "filename": file.filename, "status": "processing"}
    background_tasks.add_task(count_lines, upload_id, file)
    return {"id": upload_id, "status": "processing", "result": f"/uploads/{upload_id}"}


@app.get("/uploads/{upload_id}")
async def read_upload(upload_id: int) -> dict[str, Any]:
    with _lock:
        result = results.get(upload_id)
    if result is None:
        raise HTTPException(status_code=404, detail="Upload not found")
    return result
