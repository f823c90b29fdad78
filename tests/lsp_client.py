#!/usr/bin/env python3
"""A small LSP client (standard library only) that runs a scripted session.

Usage: lsp_client.py SERVER [ARGS...] < script.json > transcript.json

The script is a JSON list of steps:
  {"op": "request", "method": M, "params": P, "save": NAME}
      send a request, wait for its response; save {"result": ..} or {"error": ..}
  {"op": "notify", "method": M, "params": P}
  {"op": "send", "id": ID, "method": M, "params": P}
      send a request without waiting for its response
  {"op": "response", "id": ID, "save": NAME}
      wait for the response to a request sent with "send"
  {"op": "diagnostics", "uri": U, "save": NAME, "until": "any"|"empty"|"nonempty"|RULE|-RULE}
      wait for the next publishDiagnostics for U (after those already consumed)
      that satisfies `until` (RULE: a diagnostic with that code, -RULE: none with
      it); save its params
  {"op": "raw", "text": T}
      write T as is (to test malformed input)
  {"op": "sleep", "seconds": S}
  {"op": "write", "path": PATH, "text": T}
      write a file on disk (as another program would)
  {"op": "exit", "save": NAME}
      send the exit notification and save the server's exit code
Requests from the server (client/registerCapability, ...) are answered with null.
The transcript is {"results": {NAME: ...}, "received": [every message], "stderr": text}.
A step that times out saves {"timeout": true, "seen": [...]} and the run goes on.
"""

import json
import queue
import subprocess
import sys
import threading
import time

TIMEOUT = 20.0


def write_message(stream, message):
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def read_messages(stream, inbox):
    while True:
        length = None
        while True:
            line = stream.readline()
            if not line:
                inbox.put(None)
                return
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            continue
        body = stream.read(length)
        inbox.put(json.loads(body.decode("utf-8")))


def matches(params, until):
    diagnostics = params.get("diagnostics", [])
    if until == "any":
        return True
    if until == "empty":
        return not diagnostics
    if until == "nonempty":
        return bool(diagnostics)
    if until.startswith("-"):
        return all(d.get("code") != until[1:] for d in diagnostics)
    return any(d.get("code") == until for d in diagnostics)


class Session:
    def __init__(self, command):
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.inbox = queue.Queue()
        self.received = []
        self.publications = {}
        self.consumed = {}
        self.responses = {}
        self.next_id = 0
        self.closed = False
        self.stderr = []
        threading.Thread(
            target=read_messages, args=(self.process.stdout, self.inbox), daemon=True
        ).start()
        threading.Thread(target=self.drain_stderr, daemon=True).start()

    def drain_stderr(self):
        for line in self.process.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def send(self, message):
        message = dict(message, jsonrpc="2.0")
        try:
            write_message(self.process.stdin, message)
        except (BrokenPipeError, OSError):
            pass

    def pump(self, deadline):
        """Handle one incoming message; False when none came before the deadline."""
        try:
            message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if message is None:
            self.closed = True
            return False
        self.received.append(message)
        if "method" in message and "id" in message:
            self.send({"id": message["id"], "result": None})
        elif "method" in message:
            if message["method"] == "textDocument/publishDiagnostics":
                params = message["params"]
                self.publications.setdefault(params["uri"], []).append(params)
        else:
            self.responses[message.get("id")] = message
        return True

    def request(self, method, params):
        self.next_id += 1
        request_id = self.next_id
        self.send({"id": request_id, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while request_id not in self.responses:
            if not self.pump(deadline) and (self.closed or time.monotonic() >= deadline):
                return {"timeout": True}
        response = self.responses.pop(request_id)
        if "error" in response:
            return {"error": response["error"]}
        return {"result": response.get("result")}

    def response(self, request_id):
        deadline = time.monotonic() + TIMEOUT
        while request_id not in self.responses:
            if not self.pump(deadline) and (self.closed or time.monotonic() >= deadline):
                return {"timeout": True}
        return self.responses.pop(request_id)

    def diagnostics(self, uri, until):
        deadline = time.monotonic() + TIMEOUT
        while True:
            seen = self.publications.get(uri, [])
            start = self.consumed.get(uri, 0)
            for i in range(start, len(seen)):
                if matches(seen[i], until):
                    self.consumed[uri] = i + 1
                    return seen[i]
            self.consumed[uri] = len(seen)
            if not self.pump(deadline) and (self.closed or time.monotonic() >= deadline):
                return {"timeout": True, "seen": seen[start:]}

    def exit(self):
        self.send({"method": "exit"})
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return "timeout"


def run(command, steps):
    session = Session(command)
    results = {}
    for step in steps:
        op = step["op"]
        if op == "request":
            outcome = session.request(step["method"], step.get("params"))
        elif op == "notify":
            session.send({"method": step["method"], "params": step.get("params")})
            outcome = None
        elif op == "send":
            session.send({"id": step["id"], "method": step["method"], "params": step.get("params")})
            outcome = None
        elif op == "response":
            outcome = session.response(step["id"])
        elif op == "diagnostics":
            outcome = session.diagnostics(step["uri"], step.get("until", "any"))
        elif op == "raw":
            try:
                session.process.stdin.write(step["text"].encode("utf-8"))
                session.process.stdin.flush()
            except OSError:
                pass
            outcome = None
        elif op == "sleep":
            deadline = time.monotonic() + step["seconds"]
            while time.monotonic() < deadline and session.pump(deadline):
                pass
            outcome = None
        elif op == "write":
            with open(step["path"], "w", encoding="utf-8", newline="") as f:
                f.write(step["text"])
            outcome = None
        elif op == "exit":
            outcome = session.exit()
        else:
            raise ValueError("unknown step " + op)
        if "save" in step:
            results[step["save"]] = outcome
    if session.process.poll() is None:
        session.process.kill()
        session.process.wait()
    time.sleep(0.05)
    return {"results": results, "received": session.received, "stderr": "".join(session.stderr)}


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: lsp_client.py SERVER [ARGS...] < script.json")
    steps = json.load(sys.stdin)
    json.dump(run(sys.argv[1:], steps), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
