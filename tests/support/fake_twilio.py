"""A fake Twilio REST API on loopback (http.server in a thread) for the real twilio SDK.

It answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` like Twilio does: 201 with a
message resource, or a scripted error answer (Twilio's JSON error body), or a dropped
connection. Every request is recorded for the test to inspect.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
FROM = "+15005550006"
DROP = "drop"  # scripted answer: close the connection without a response


@dataclass
class FakeTwilio:
    script: list = field(default_factory=list)  # answers to give, in order: (status, code) or DROP
    requests: list = field(default_factory=list)

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append({"path": self.path, "form": form,
                                      "auth": self.headers.get("Authorization", "")})
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                step = fake.script.pop(0) if fake.script else (201, None)
                if step == DROP:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, code = step
                if status >= 400:
                    return self._answer(status, {"code": code, "message": f"scripted error {code}",
                                                 "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                                 "status": status})
                sid = "SM" + uuid.uuid4().hex
                self._answer(201, {"sid": sid, "account_sid": ACCOUNT_SID, "to": form.get("To"),
                                   "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                                   "num_segments": "1", "direction": "outbound-api"})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
