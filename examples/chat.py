"""A chat room: WebSockets and background tasks in one small app.

Run it:   python -m microready examples.chat:app
Open:     http://127.0.0.1:8000/ in two browser tabs, and type in each.
Announce: curl -X POST 'http://127.0.0.1:8000/announce?text=Lunch%20is%20ready'

Each tab is a client with its own number; what one writes, every one reads
("Client #N says: ..."), and when a tab closes the others read "Client #N
left the chat". This is FastAPI's "WebSockets" tutorial (its third example),
with one addition: ``POST /announce`` answers 202 at once and broadcasts the
announcement from a background task, after the response has been sent, so a
slow room never delays the caller.
"""

from microready import BackgroundTasks, MicroReady, WebSocket, WebSocketDisconnect
from microready.responses import HTMLResponse

app = MicroReady()

HTML = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Chat</title></head>
<body>
  <h1>WebSocket Chat</h1>
  <h2>Your ID: <span id="client-id"></span></h2>
  <form id="chat"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
  <ul id="messages"></ul>
  <script>
    const clientId = Date.now();
    document.getElementById("client-id").textContent = clientId;
    // The page's own host and port, so it works wherever the server listens.
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/${clientId}`);
    ws.onmessage = (event) => {
      const item = document.createElement("li");
      item.textContent = event.data;  // text, never HTML: a message cannot inject markup
      document.getElementById("messages").appendChild(item);
    };
    document.getElementById("chat").onsubmit = (event) => {
      event.preventDefault();
      const input = document.getElementById("text");
      ws.send(input.value);
      input.value = "";
    };
  </script>
</body>
</html>
"""


class ConnectionManager:
    """The open connections of the room, and the messages sent to all of them."""

    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def connect(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.active_connections.append(websocket)

    def disconnect(self, websocket: WebSocket) -> None:
        if websocket in self.active_connections:
            self.active_connections.remove(websocket)

    @staticmethod
    async def send_personal_message(message: str, websocket: WebSocket) -> None:
        await websocket.send_text(message)

    async def broadcast(self, message: str) -> None:
        # A copy: a client may join or leave while we wait on another one's socket.
        for connection in list(self.active_connections):
            try:
                await connection.send_text(message)
            except WebSocketDisconnect:  # it left mid-broadcast; its endpoint says so
                self.disconnect(connection)


manager = ConnectionManager()


@app.get("/")
async def get() -> HTMLResponse:
    return HTMLResponse(HTML)


@app.websocket("/ws/{client_id}")
async def websocket_endpoint(websocket: WebSocket, client_id: int) -> None:
    await manager.connect(websocket)
    try:
        while True:
            data = await websocket.receive_text()
            await manager.send_personal_message(f"You wrote: {data}", websocket)
            await manager.broadcast(f"Client #{client_id} says: {data}")
    except WebSocketDisconnect:
        manager.disconnect(websocket)
        await manager.broadcast(f"Client #{client_id} left the chat")


@app.post("/announce", status_code=202)
async def announce(text: str, background_tasks: BackgroundTasks) -> dict[str, str | int]:
    # Runs once the 202 has been sent: the caller does not wait for the room.
    background_tasks.add_task(manager.broadcast, f"Announcement: {text}")
    return {"announcement": text, "listeners": len(manager.active_connections)}
