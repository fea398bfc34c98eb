"""TestClient's guard rails."""

import pytest

from microready import MicroReady
from microready.testing import TestClient


@pytest.mark.anyio
async def test_testclient_refuses_to_run_inside_an_event_loop() -> None:
    app = MicroReady()
    with pytest.raises(RuntimeError, match="cannot be used inside an async test"):
        TestClient(app).get("/")


def test_testclient_wants_a_microready_app() -> None:
    with pytest.raises(TypeError, match="TestClient needs a microready app"):
        TestClient(object())  # type: ignore[arg-type]
