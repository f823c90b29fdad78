#!/usr/bin/env python3
"""Passive-mode FTP probe for the truth tests; run inside the client namespace.

Speaks raw FTP over sockets (not ftplib) so every step has its own timeout and
every failure names the step that failed. Prints one JSON object on stdout.

  transfers MODE: SESSIONS sessions, PARALLEL at a time; each logs in
    anonymously, sends PASV, connects the data port, then LIST or RETR.
  hold MODE: SESSIONS sessions opened one after another; each sends PASV and
    keeps its passive port bound (no data connection) until all have asked.
"""

import argparse
import json
import re
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

PASV_REPLY = re.compile(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)")


class Failure(Exception):
    def __init__(self, stage, error, reply=None):
        super().__init__(error)
        self.stage = stage
        self.error = error
        self.reply = reply


class Control:
    def __init__(self, host, port, timeout):
        try:
            self.sock = socket.create_connection((host, port), timeout)
        except OSError as e:
            raise Failure("connect", describe(e))
        self.file = self.sock.makefile("rb")

    def reply(self, stage):
        """Reads one (possibly multi-line) reply; returns (code, text)."""
        try:
            first = self.file.readline()
        except OSError as e:
            raise Failure(stage, describe(e))
        if not first:
            raise Failure(stage, "control connection closed")
        text = first.decode("latin-1").rstrip("\r\n")
        code = text[:3]
        if len(text) > 3 and text[3] == "-":
            while True:
                line = self.file.readline()
                if not line:
                    raise Failure(stage, "control connection closed", text)
                line = line.decode("latin-1").rstrip("\r\n")
                if line.startswith(code + " "):
                    text = text + "\n" + line
                    break
        return code, text

    def command(self, stage, line, expect):
        try:
            self.sock.sendall((line + "\r\n").encode("latin-1"))
        except OSError as e:
            raise Failure(stage, describe(e))
        code, text = self.reply(stage)
        if not code.startswith(expect):
            raise Failure(stage, "unexpected reply", text)
        return text

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def describe(error):
    if isinstance(error, socket.timeout):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    return type(error).__name__ + ": " + str(error)


def login(args):
    control = Control(args.host, args.port, args.control_timeout)
    try:
        code, text = control.reply("banner")
        if code != "220":
            raise Failure("banner", "unexpected reply", text)
        control.command("login", "USER anonymous", "3")
        control.command("login", "PASS probe@example.org", "230")
        control.command("login", "TYPE I", "200")
    except Failure:
        control.close()
        raise
    return control


def passive(control):
    text = control.command("pasv", "PASV", "227")
    match = PASV_REPLY.search(text)
    if not match:
        raise Failure("pasv", "unparsable 227", text)
    numbers = [int(n) for n in match.groups()]
    return text, ".".join(map(str, numbers[:4])), numbers[4] * 256 + numbers[5]


def one_transfer(args, index):
    record = {"index": index, "kind": "LIST" if index % 2 == 0 else "RETR",
              "stage": None, "error": None, "reply": None, "port": None, "bytes": 0}
    control = None
    try:
        control = login(args)
        reply, _address, port = passive(control)
        record["reply"] = reply
        record["port"] = port
        try:
            # Always dial the control host: the announced address is what the
            # daemon says, the port is what the firewall judges.
            data = socket.create_connection((args.host, port), args.data_timeout)
        except OSError as e:
            raise Failure("data-connect", describe(e), reply)
        with data:
            command = "LIST" if record["kind"] == "LIST" else "RETR " + args.file
            try:
                control.command("transfer", command, "1")
            except Failure as f:
                # In passive mode the server answers 150 only once it has accepted
                # the data connection: silence while the client's side is connected
                # means its later packets (the client's ACK) never reached it.
                if f.error == "timeout":
                    raise Failure("data-accept", f.error, f.reply)
                raise
            data.settimeout(args.control_timeout)
            received = 0
            try:
                while True:
                    chunk = data.recv(65536)
                    if not chunk:
                        break
                    received += len(chunk)
            except OSError as e:
                raise Failure("transfer", describe(e))
            record["bytes"] = received
        control.reply("transfer")
    except Failure as f:
        record["stage"] = f.stage
        record["error"] = f.error
        if f.reply is not None:
            record["reply"] = f.reply
    finally:
        if control is not None:
            control.close()
    return record


def transfers(args):
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = [pool.submit(one_transfer, args, i) for i in range(args.sessions)]
        return [f.result() for f in futures]


def hold(args):
    records, controls = [], []
    try:
        for index in range(args.sessions):
            record = {"index": index, "kind": "PASV-HOLD", "stage": None,
                      "error": None, "reply": None, "port": None, "bytes": 0}
            try:
                control = login(args)
                controls.append(control)
                reply, _address, port = passive(control)
                record["reply"] = reply
                record["port"] = port
            except Failure as f:
                record["stage"] = f.stage
                record["error"] = f.error
                record["reply"] = f.reply
            records.append(record)
    finally:
        for control in controls:
            control.close()
    return records


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["transfers", "hold"])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=21)
    parser.add_argument("--sessions", type=int, default=48)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--control-timeout", type=float, default=5.0)
    parser.add_argument("--data-timeout", type=float, default=2.0)
    parser.add_argument("--file", default="probe.bin")
    args = parser.parse_args()
    started = time.monotonic()
    records = transfers(args) if args.mode == "transfers" else hold(args)
    json.dump({"mode": args.mode, "seconds": round(time.monotonic() - started, 3),
               "sessions": records}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
