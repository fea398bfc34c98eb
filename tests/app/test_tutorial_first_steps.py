"""FastAPI tutorial, "First Steps" (docs_src/first_steps/tutorial001.py), on microready.

Only the import line differs from FastAPI's code.
"""

from microready import MicroReady as FastAPI

from .helpers import client_for

app = FastAPI()


@app.get("/")
async def root():  # type: ignore[no-untyped-def]
    return {"message": "Hello World"}


def test_root(anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Hello World"}
    assert response.headers["content-type"] == "application/json"


def test_nonexistent(anyio_backend: str) -> None:
    response = client_for(app, anyio_backend).get("/nonexistent")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Not Found"}
