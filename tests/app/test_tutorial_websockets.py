"""FastAPI tutorial, "WebSockets" (docs_src/websockets/tutorial001-003).

Each tutorial's code is FastAPI's, with only its import lines changed; it sits
in a function that returns its module-level names, so each test gets a fresh
app (and tutorial003 a fresh ``ConnectionManager``). The tests are FastAPI's
own (tests/test_tutorial/test_websockets/), with the same expected values.

FastAPI's tests expect ``WebSocketDisconnect`` out of a ``with
client.websocket_connect(...)`` block whose endpoint loops on ``receive_text()``:
as Starlette's test client, microready's re-raises, on leaving the block, the
disconnect that ended the endpoint. tutorial003's test holds two sessions open
on a ``TestClient`` used without ``with``: they share one event loop and one
background runner.
"""

# ruff: noqa: UP045, SIM117 - FastAPI's code as written: Optional[...], nested with blocks.
# No `from __future__ import annotations`: the tutorials have none, and
# tutorial002_an's Annotated[..., Depends(get_cookie_or_token)] names a local function.

from types import SimpleNamespace
from typing import Annotated, Any, Optional

import pytest

from microready import Cookie, Depends, Query, WebSocket, WebSocketException, status
from microready import MicroReady as FastAPI
from microready.responses import HTMLResponse
from microready.testing import TestClient
from microready.websockets import WebSocketDisconnect


def tutorial001() -> SimpleNamespace:
    app = FastAPI()

    html = """
<!DOCTYPE html>
<html>
    <head>
        <title>Chat</title>
    </head>
    <body>
        <h1>WebSocket Chat</h1>
        <form action="" onsubmit="sendMessage(event)">
            <input type="text" id="messageText" autocomplete="off"/>
            <button>Send</button>
        </form>
        <ul id='messages'>
        </ul>
        <script>
            var ws = new WebSocket("ws://localhost:8000/ws");
            ws.onmessage = function(event) {
                var messages = document.getElementById('messages')
                var message = document.createElement('li')
                var content = document.createTextNode(event.data)
                message.appendChild(content)
                messages.appendChild(message)
            };
            function sendMessage(event) {
                var input = document.getElementById("messageText")
                ws.send(input.value)
                input.value = ''
                event.preventDefault()
            }
        </script>
    </body>
</html>
"""

    @app.get("/")
    async def get():
        return HTMLResponse(html)

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket):
        await websocket.accept()
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(f"Message text was: {data}")

    return SimpleNamespace(app=app, html=html)


HTML002 = """
<!DOCTYPE html>
<html>
    <head>
        <title>Chat</title>
    </head>
    <body>
        <h1>WebSocket Chat</h1>
        <form action="" onsubmit="sendMessage(event)">
            <label>Item ID: <input type="text" id="itemId" autocomplete="off" value="foo"/></label>
            <label>Token: <input type="text" id="token" autocomplete="off" value="some-key-token"/></label>
            <button onclick="connect(event)">Connect</button>
            <hr>
            <label>Message: <input type="text" id="messageText" autocomplete="off"/></label>
            <button>Send</button>
        </form>
        <ul id='messages'>
        </ul>
        <script>
        var ws = null;
            function connect(event) {
                var itemId = document.getElementById("itemId")
                var token = document.getElementById("token")
                ws = new WebSocket("ws://localhost:8000/items/" + itemId.value + "/ws?token=" + token.value);
                ws.onmessage = function(event) {
                    var messages = document.getElementById('messages')
                    var message = document.createElement('li')
                    var content = document.createTextNode(event.data)
                    message.appendChild(content)
                    messages.appendChild(message)
                };
                event.preventDefault()
            }
            function sendMessage(event) {
                var input = document.getElementById("messageText")
                ws.send(input.value)
                input.value = ''
                event.preventDefault()
            }
        </script>
    </body>
</html>
"""  # noqa: E501 - the tutorial's HTML, as written


def tutorial002_py310() -> SimpleNamespace:
    app = FastAPI()

    html = HTML002

    @app.get("/")
    async def get():
        return HTMLResponse(html)

    async def get_cookie_or_token(
        websocket: WebSocket,
        session: str | None = Cookie(default=None),
        token: str | None = Query(default=None),
    ):
        if session is None and token is None:
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        return session or token

    @app.websocket("/items/{item_id}/ws")
    async def websocket_endpoint(
        websocket: WebSocket,
        item_id: str,
        q: int | None = None,
        cookie_or_token: str = Depends(get_cookie_or_token),
    ):
        await websocket.accept()
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(
                f"Session cookie or query token value is: {cookie_or_token}"
            )
            if q is not None:
                await websocket.send_text(f"Query parameter q is: {q}")
            await websocket.send_text(f"Message text was: {data}, for item ID: {item_id}")

    return SimpleNamespace(app=app, html=html)


def tutorial002_an_py310() -> SimpleNamespace:
    app = FastAPI()

    html = HTML002

    @app.get("/")
    async def get():
        return HTMLResponse(html)

    async def get_cookie_or_token(
        websocket: WebSocket,
        session: Annotated[Optional[str], Cookie()] = None,
        token: Annotated[Optional[str], Query()] = None,
    ):
        if session is None and token is None:
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        return session or token

    @app.websocket("/items/{item_id}/ws")
    async def websocket_endpoint(
        *,
        websocket: WebSocket,
        item_id: str,
        q: Optional[int] = None,
        cookie_or_token: Annotated[str, Depends(get_cookie_or_token)],
    ):
        await websocket.accept()
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(
                f"Session cookie or query token value is: {cookie_or_token}"
            )
            if q is not None:
                await websocket.send_text(f"Query parameter q is: {q}")
            await websocket.send_text(f"Message text was: {data}, for item ID: {item_id}")

    return SimpleNamespace(app=app, html=html)


def tutorial003_py39() -> SimpleNamespace:
    app = FastAPI()

    html = """
<!DOCTYPE html>
<html>
    <head>
        <title>Chat</title>
    </head>
    <body>
        <h1>WebSocket Chat</h1>
        <h2>Your ID: <span id="ws-id"></span></h2>
        <form action="" onsubmit="sendMessage(event)">
            <input type="text" id="messageText" autocomplete="off"/>
            <button>Send</button>
        </form>
        <ul id='messages'>
        </ul>
        <script>
            var client_id = Date.now()
            document.querySelector("#ws-id").textContent = client_id;
            var ws = new WebSocket(`ws://localhost:8000/ws/${client_id}`);
            ws.onmessage = function(event) {
                var messages = document.getElementById('messages')
                var message = document.createElement('li')
                var content = document.createTextNode(event.data)
                message.appendChild(content)
                messages.appendChild(message)
            };
            function sendMessage(event) {
                var input = document.getElementById("messageText")
                ws.send(input.value)
                input.value = ''
                event.preventDefault()
            }
        </script>
    </body>
</html>
"""

    class ConnectionManager:
        def __init__(self):
            self.active_connections: list[WebSocket] = []

        async def connect(self, websocket: WebSocket):
            await websocket.accept()
            self.active_connections.append(websocket)

        def disconnect(self, websocket: WebSocket):
            self.active_connections.remove(websocket)

        @staticmethod
        async def send_personal_message(message: str, websocket: WebSocket):
            await websocket.send_text(message)

        async def broadcast(self, message: str):
            for connection in self.active_connections:
                await connection.send_text(message)

    manager = ConnectionManager()

    @app.get("/")
    async def get():
        return HTMLResponse(html)

    @app.websocket("/ws/{client_id}")
    async def websocket_endpoint(websocket: WebSocket, client_id: int):
        await manager.connect(websocket)
        try:
            while True:
                data = await websocket.receive_text()
                await manager.send_personal_message(f"You wrote: {data}", websocket)
                await manager.broadcast(f"Client #{client_id} says: {data}")
        except WebSocketDisconnect:
            manager.disconnect(websocket)
            await manager.broadcast(f"Client #{client_id} left the chat")

    return SimpleNamespace(app=app, html=html, manager=manager)


# -- tutorial001 ------------------------------------------------------------------------------

def test001_main() -> None:
    client = TestClient(tutorial001().app)
    response = client.get("/")
    assert response.status_code == 200, response.text
    assert b"<!DOCTYPE html>" in response.content


def test001_websocket() -> None:
    client = TestClient(tutorial001().app)
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws") as websocket:
            message = "Message one"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == f"Message text was: {message}"
            message = "Message two"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == f"Message text was: {message}"




# -- tutorial002 ------------------------------------------------------------------------------

@pytest.fixture(params=[tutorial002_py310, tutorial002_an_py310],
                ids=["tutorial002_py310", "tutorial002_an_py310"])
def app002(request: pytest.FixtureRequest) -> Any:
    return request.param().app


def test002_main(app002: Any) -> None:
    client = TestClient(app002)
    response = client.get("/")
    assert response.status_code == 200, response.text
    assert b"<!DOCTYPE html>" in response.content


def test002_websocket_with_cookie(app002: Any) -> None:
    client = TestClient(app002, cookies={"session": "fakesession"})
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/items/foo/ws") as websocket:
            message = "Message one"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == "Session cookie or query token value is: fakesession"
            data = websocket.receive_text()
            assert data == f"Message text was: {message}, for item ID: foo"
            message = "Message two"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == "Session cookie or query token value is: fakesession"
            data = websocket.receive_text()
            assert data == f"Message text was: {message}, for item ID: foo"


def test002_websocket_with_header(app002: Any) -> None:
    client = TestClient(app002)
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/items/bar/ws?token=some-token") as websocket:
            message = "Message one"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == "Session cookie or query token value is: some-token"
            data = websocket.receive_text()
            assert data == f"Message text was: {message}, for item ID: bar"
            message = "Message two"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == "Session cookie or query token value is: some-token"
            data = websocket.receive_text()
            assert data == f"Message text was: {message}, for item ID: bar"


def test002_websocket_with_header_and_query(app002: Any) -> None:
    client = TestClient(app002)
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/items/2/ws?q=3&token=some-token") as websocket:
            message = "Message one"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == "Session cookie or query token value is: some-token"
            data = websocket.receive_text()
            assert data == "Query parameter q is: 3"
            data = websocket.receive_text()
            assert data == f"Message text was: {message}, for item ID: 2"
            message = "Message two"
            websocket.send_text(message)
            data = websocket.receive_text()
            assert data == "Session cookie or query token value is: some-token"
            data = websocket.receive_text()
            assert data == "Query parameter q is: 3"
            data = websocket.receive_text()
            assert data == f"Message text was: {message}, for item ID: 2"


def test002_websocket_no_credentials(app002: Any) -> None:
    client = TestClient(app002)
    with pytest.raises(WebSocketDisconnect) as raised:
        with client.websocket_connect("/items/foo/ws"):
            pytest.fail("did not raise WebSocketDisconnect on __enter__")
    assert raised.value.code == status.WS_1008_POLICY_VIOLATION  # as FastAPI closes it


def test002_websocket_invalid_data(app002: Any) -> None:
    client = TestClient(app002)
    with pytest.raises(WebSocketDisconnect) as raised:
        with client.websocket_connect("/items/foo/ws?q=bar&token=some-token"):
            pytest.fail("did not raise WebSocketDisconnect on __enter__")
    assert raised.value.code == status.WS_1008_POLICY_VIOLATION  # as FastAPI closes it




# -- tutorial003 ------------------------------------------------------------------------------

def test003_get() -> None:
    mod = tutorial003_py39()
    client = TestClient(mod.app)
    response = client.get("/")
    assert response.text == mod.html


def test003_websocket_handle_disconnection() -> None:
    mod = tutorial003_py39()
    client = TestClient(mod.app)
    with (
        client.websocket_connect("/ws/1234") as connection,
        client.websocket_connect("/ws/5678") as connection_two,
    ):
        connection.send_text("Hello from 1234")
        data1 = connection.receive_text()
        assert data1 == "You wrote: Hello from 1234"
        data2 = connection_two.receive_text()
        client1_says = "Client #1234 says: Hello from 1234"
        assert data2 == client1_says
        data1 = connection.receive_text()
        assert data1 == client1_says
        connection_two.close()
        data1 = connection.receive_text()
        assert data1 == "Client #5678 left the chat"


def test003_websocket_handle_disconnection_inside_with_testclient() -> None:
    # FastAPI's test again, in `with TestClient(app) as client:` (one event loop
    # for both sessions), where microready passes it.
    mod = tutorial003_py39()
    with TestClient(mod.app) as client:
        with (
            client.websocket_connect("/ws/1234") as connection,
            client.websocket_connect("/ws/5678") as connection_two,
        ):
            connection.send_text("Hello from 1234")
            data1 = connection.receive_text()
            assert data1 == "You wrote: Hello from 1234"
            data2 = connection_two.receive_text()
            client1_says = "Client #1234 says: Hello from 1234"
            assert data2 == client1_says
            data1 = connection.receive_text()
            assert data1 == client1_says
            connection_two.close()
            data1 = connection.receive_text()
            assert data1 == "Client #5678 left the chat"
    # Both endpoints saw their client go and left the manager.
    assert mod.manager.active_connections == []


def test003_a_client_id_that_is_no_int_is_refused() -> None:
    client = TestClient(tutorial003_py39().app)
    with pytest.raises(WebSocketDisconnect) as raised, client.websocket_connect("/ws/abc"):
        pytest.fail("did not raise WebSocketDisconnect on __enter__")
    assert raised.value.code == status.WS_1008_POLICY_VIOLATION
