#!/usr/bin/env python3
"""Active-mode FTP client for the truth tests; run inside the client namespace.

Logs in anonymously with ftplib, turns passive mode off (PORT), then LIST and
RETR of one file. Prints one JSON object: ok, the step that failed, the error
or server reply, the server's source port when a data connection arrived.

  ftp_active.py HOST PORT FILE TIMEOUT
"""

import ftplib
import json
import socket
import sys
import time


def main():
    host, port, name, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    started = time.monotonic()
    result = {"ok": False, "stage": "connect", "error": None, "peer_port": None}
    ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(host, port)
        result["stage"] = "login"
        ftp.login("anonymous", "probe@example.org")
        ftp.set_pasv(False)
        result["stage"] = "list"
        conn = ftp.transfercmd("LIST")
        result["peer_port"] = conn.getpeername()[1]
        with conn:
            while conn.recv(65536):
                pass
        ftp.voidresp()
        result["stage"] = "retr"
        received = []
        ftp.retrbinary("RETR " + name, received.append)
        result["bytes"] = sum(len(b) for b in received)
        result["stage"] = None
        result["ok"] = True
    except (OSError, EOFError, ftplib.Error) as e:
        result["error"] = (type(e).__name__ + ": " + str(e)).strip()
    finally:
        try:
            ftp.close()
        except OSError:
            pass
    result["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
