# fleet-watch.py SOCK BACKEND DB OUT STOP - tests/e2e/lib/fleet.sh's HAProxy watcher:
# every 100 ms, HAProxy's `show stat` of BACKEND (through its admin socket SOCK)
# and the newest deployment in the store DB; each change of what it sees is a line of
# OUT: "VERSION STATE STEP | SERVER=ADDR:WEIGHT:STATUS ..." (servers by name).
# Ends when the file STOP exists.
import os, socket, sqlite3, sys, time

sock, backend, db, out, stop = sys.argv[1:6]
last = None
with open(out, "w") as f:
    while not os.path.exists(stop):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(2)
            s.connect(sock)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
            lines = data.decode().splitlines()
            hdr = lines[0].lstrip("# ").split(",")
            ix = {k: i for i, k in enumerate(hdr)}
            srv = []
            for l in lines[1:]:
                x = l.split(",")
                if len(x) < len(hdr) or x[ix["pxname"]] != backend or x[ix["svname"]] in ("FRONTEND", "BACKEND"):
                    continue
                srv.append("%s=%s:%s:%s" % (x[ix["svname"]], x[ix["addr"]].rsplit(":", 1)[0] if "addr" in ix else "?",
                                             x[ix["weight"]], x[ix["status"]].split(" ")[0]))
            try:
                r = sqlite3.connect(db, timeout=1).execute(
                    "select version, state, step from deployments order by id desc limit 1").fetchone()
            except Exception:
                r = None
            line = "%s | %s" % (" ".join(str(v) for v in r) if r else "none", " ".join(sorted(srv)))
            if line != last:
                f.write(line + "\n")
                f.flush()
                last = line
        except Exception:
            pass
        time.sleep(0.1)
