"""examples/chat.py: a chat room over WebSockets, with announcements from background tasks.

Through ``TestClient`` (in ``with TestClient(app)``, so both sessions and the
POST's background task share one event loop, as on a server), and through the
real server in the test's event loop with two ``websockets`` clients (asyncio
and trio) and a raw HTTP client for ``POST /announce``.

Every wait is for a message that must come, under a deadline: the order is
made deterministic by letting each client speak (and hear its own echo) before
the next joins, so the manager already holds everyone a broadcast must reach.
"""

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import examples.chat as example
from microready.testing import TestClient
from microready.websockets import WebSocketDisconnect
from tests.support.http import request
from tests.support.live import IO_TIMEOUT, connect, serving

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def empty_room() -> Iterator[None]:
    """The example's manager is module state: each test starts and must end with no one."""
    assert example.manager.active_connections == []
    yield
    leftover = list(example.manager.active_connections)
    example.manager.active_connections.clear()
    assert leftover == [], "a connection was never removed from the room"


def test_the_page_connects_to_the_websocket_of_its_own_host() -> None:
    response = TestClient(example.app).get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<!DOCTYPE html>" in response.text
    assert "new WebSocket(`${scheme}://${location.host}/ws/${clientId}`)" in response.text
    assert "textContent = event.data" in response.text  # messages shown as text


def test_chat_and_announce_through_the_test_client(anyio_backend: str) -> None:
    client = TestClient(example.app, backend=anyio_backend)  # type: ignore[arg-type]
    with client, client.websocket_connect("/ws/1") as alice:
        alice.send_text("hello")
        assert alice.receive_text() == "You wrote: hello"
        assert alice.receive_text() == "Client #1 says: hello"
        with client.websocket_connect("/ws/2") as bob:
            bob.send_text("hi")
            assert bob.receive_text() == "You wrote: hi"
            assert bob.receive_text() == "Client #2 says: hi"
            assert alice.receive_text() == "Client #2 says: hi"

            # The response counts the listeners; the broadcast follows it, from
            # the background task (the test client returns once it has run).
            response = client.post("/announce", params={"text": "Lunch is ready"})
            assert response.status_code == 202
            assert response.json() == {"announcement": "Lunch is ready", "listeners": 2}
            assert alice.receive_text() == "Announcement: Lunch is ready"
            assert bob.receive_text() == "Announcement: Lunch is ready"
        assert alice.receive_text() == "Client #2 left the chat"
        assert len(example.manager.active_connections) == 1  # alice is still in


def test_a_client_id_must_be_a_number() -> None:
    with pytest.raises(WebSocketDisconnect) as refused, \
            TestClient(example.app).websocket_connect("/ws/alice"):
        pytest.fail("accepted a client id that is no int")
    assert refused.value.code == 1008


def ws_connect(anyio_backend: str, url: str) -> Any:
    """The ``websockets`` client for this backend, with its own pings off."""
    if anyio_backend == "trio":
        from websockets.trio.client import connect as connect_client
    else:
        from websockets.asyncio.client import connect as connect_client
    return connect_client(url, ping_interval=None, open_timeout=IO_TIMEOUT,
                          close_timeout=IO_TIMEOUT)


async def close_client(client: Any) -> None:
    await (client.aclose() if hasattr(client, "aclose") else client.close())


async def test_two_browsers_chat_through_the_real_server(anyio_backend: str) -> None:
    async with serving(example.app) as running:
        base = f"ws://127.0.0.1:{running.port}/ws"
        async with ws_connect(anyio_backend, f"{base}/1") as alice:
            with anyio.fail_after(IO_TIMEOUT):
                await alice.send("hello")
                assert await alice.recv() == "You wrote: hello"
                assert await alice.recv() == "Client #1 says: hello"
            async with ws_connect(anyio_backend, f"{base}/2") as bob:
                with anyio.fail_after(IO_TIMEOUT):
                    await bob.send("hi")
                    assert await bob.recv() == "You wrote: hi"
                    assert await bob.recv() == "Client #2 says: hi"
                    assert await alice.recv() == "Client #2 says: hi"

                    async with connect(running.port) as http:
                        await http.send(request("POST", "/announce?text=Lunch%20is%20ready",
                                                "Content-Length: 0"))
                        response = await http.read_response("POST")
                    assert response.status == 202
                    assert response.json() == {"announcement": "Lunch is ready",
                                               "listeners": 2}
                    assert await alice.recv() == "Announcement: Lunch is ready"
                    assert await bob.recv() == "Announcement: Lunch is ready"
                    await close_client(bob)
            with anyio.fail_after(IO_TIMEOUT):
                assert await alice.recv() == "Client #2 left the chat"
                await close_client(alice)
        assert alice.close_code == bob.close_code == 1000
    # The server's shutdown waited for both endpoints: each left the room.
    assert example.manager.active_connections == []
