#!/usr/bin/python3
"""prom_stub.py - answers like Prometheus's HTTP API, for the outage cases of
the `prometheus` provider only (docs/prometheus.md "What is never a pass");
the provider's real test bed is a real Prometheus (tests/e2e/prometheus.sh).

    python3 prom_stub.py       prints "PORT" once it listens on 127.0.0.1

The first path element chooses the behaviour, so one stub serves every case
(address http://127.0.0.1:PORT/MODE):
  ok       a healthy answer: 100 requests, 0 errors, p-quantiles 0.05 s,
           buckets le=0.05: 90, le=0.1: 99, +Inf: 100
  503      HTTP 503 every time           flaky   503 once per query, then ok
  slow     answers after 3 s (a timeout) badjson a truncated JSON document
  empty    an empty vector ("no data")   nan     NaN (0/0)
  promerr  HTTP 400 with Prometheus's {"status":"error"} answer
GET /hits/MODE prints how many API requests MODE received.
It exits when the process that started it is gone.
"""
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hits = {}
lock = threading.Lock()
flaky_seen = set()


def vector(samples):
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": m, "value": [time.time(), v]} for m, v in samples]}}


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body):
        b = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.strip("/").split("/", 1)
        if parts[0] == "hits":
            self.send(200, str(hits.get(parts[1] if len(parts) > 1 else "", 0)))
            return
        mode = parts[0]
        q = urllib.parse.parse_qs(u.query).get("query", [""])[0]
        with lock:
            hits[mode] = hits.get(mode, 0) + 1
        if mode == "503":
            self.send(503, "service unavailable\n")
        elif mode == "flaky" and q not in flaky_seen:
            flaky_seen.add(q)
            self.send(503, "service unavailable\n")
        elif mode == "slow":
            time.sleep(3)
            self.send(200, vector([({}, "1")]))
        elif mode == "badjson":
            self.send(200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,')
        elif mode == "empty":
            self.send(200, vector([]))
        elif mode == "nan":
            self.send(200, vector([({}, "NaN")]))
        elif mode == "promerr":
            self.send(400, {"status": "error", "errorType": "bad_data", "error": "1:5: parse error: unexpected"})
        elif "sum by (le)" in q and "histogram_quantile" not in q:
            self.send(200, vector([({"le": "0.05"}, "90"), ({"le": "0.1"}, "99"), ({"le": "+Inf"}, "100")]))
        elif "histogram_quantile" in q:
            self.send(200, vector([({}, "0.05")]))
        elif "5.." in q or "5xx" in q:
            self.send(200, vector([({}, "0")]))
        else:
            self.send(200, vector([({}, "100.4")]))


def orphaned(parent):
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


threading.Thread(target=orphaned, args=(os.getppid(),), daemon=True).start()
class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that timed out ("slow") closed its end: expected


srv = Server(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
