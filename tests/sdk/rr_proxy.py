"""A round-robin HTTP/1.1 reverse proxy for the cluster mode of the official-client suite
(CLOUDTWIN_SDK_CLUSTER=1): every request, not every connection, goes to the next node in turn.

Python's standard library only. Clients keep their connections alive to the proxy (a
ThreadingHTTPServer speaking HTTP/1.1, one thread per client connection); each thread keeps one
connection of its own to each node and opens it again when it fails. Method, path and query,
every header as the client sent it (Host too: the signatures cover it) and the body go to the
node unchanged; status, reason, headers and body come back unchanged (a chunked answer, which
http.client has decoded, goes back as one chunk under its own Transfer-Encoding header). The
proxy counts the requests each node received, so that a test can assert the spread."""
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A request that fails on a kept connection before any answer came (the node closed it while
# idle, or was restarted) is sent once more on a fresh connection; a fresh connection's
# failure is answered 502.
_STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError,
          BrokenPipeError, ConnectionAbortedError)


class RoundRobinProxy:
    """Listens on 127.0.0.1 on a free port; `endpoint` is its host:port."""

    def __init__(self, nodes, timeout=120):
        self._lock = threading.Lock()
        self._nodes = list(nodes)
        self._generation = 0
        self._next = 0
        self.counts = [0] * len(self._nodes)
        self.timeout = timeout
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        host, port = self._httpd.server_address[:2]
        self.endpoint = f"{host}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="rr-proxy", daemon=True)
        self._thread.start()

    def set_nodes(self, nodes):
        """The nodes' addresses after a restart (same number of nodes): connections kept to the
        old addresses are dropped at their thread's next request."""
        nodes = list(nodes)
        assert len(nodes) == len(self._nodes), (nodes, self._nodes)
        with self._lock:
            self._nodes = nodes
            self._generation += 1

    def spread(self):
        """Requests received per node so far (a copy)."""
        with self._lock:
            return list(self.counts)

    def _pick(self):
        with self._lock:
            i = self._next
            self._next = (i + 1) % len(self._nodes)
            self.counts[i] += 1
            return i, self._nodes[i], self._generation

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=30)


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: the suite's 50 concurrent clients would overflow it.
    request_queue_size = 256
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def _conns(self):
        if not hasattr(self, "_kept"):
            self._kept = {}  # (generation, node index) -> HTTPConnection, for this client connection
        return self._kept

    def finish(self):
        for conn in getattr(self, "_kept", {}).values():
            conn.close()
        super().finish()

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers: dropped
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks), True
        length = self.headers.get("Content-Length")
        return (self.rfile.read(int(length)) if length else b""), False

    def _forward(self, conn, body, chunked):
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            conn.putheader(name, value)
        if chunked:
            conn.endheaders()
            if body:
                conn.send(b"%x\r\n%s\r\n" % (len(body), body))
            conn.send(b"0\r\n\r\n")
        else:
            conn.endheaders(body if body else None)
        resp = conn.getresponse()
        return resp, resp.read()

    def _proxy(self):
        proxy = self.server.proxy
        body, chunked = self._read_body()
        i, node, generation = proxy._pick()
        conns = self._conns()
        for key in [k for k in conns if k[0] != generation]:
            conns.pop(key).close()
        key = (generation, i)
        for attempt in (0, 1):
            reused = key in conns
            conn = conns.get(key) or http.client.HTTPConnection(node, timeout=proxy.timeout)
            conns[key] = conn
            try:
                resp, data = self._forward(conn, body, chunked)
                break
            except (OSError, http.client.HTTPException) as e:
                conns.pop(key).close()
                if attempt == 0 and reused and isinstance(e, _STALE):
                    continue
                msg = f"rr_proxy: node {i + 1} ({node}): {type(e).__name__}: {e}".encode()
                self.send_response_only(502, "Bad Gateway")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
        if resp.will_close:
            conns.pop(key).close()
        self.send_response_only(resp.status, resp.reason)
        te_chunked = False
        for name, value in resp.getheaders():
            if name.lower() == "transfer-encoding" and "chunked" in value.lower():
                te_chunked = True
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
            pass
        elif te_chunked:
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(data)
        if resp.getheader("Content-Length") is None and not te_chunked and self.command != "HEAD" \
                and resp.status not in (204, 304):
            self.close_connection = True  # the body ended with the node's connection

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy


if __name__ == "__main__":
    # For suites in other languages (tests/node/run.mjs in cluster mode):
    #   python3 tests/sdk/rr_proxy.py HOST:PORT HOST:PORT ...
    # prints "rr-proxy listening on HOST:PORT" and serves until stdin closes or SIGTERM.
    import signal
    import sys

    proxy = RoundRobinProxy(sys.argv[1:])
    print(f"rr-proxy listening on {proxy.endpoint}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sys.stdin.read()
    finally:
        print(f"rr-proxy spread {proxy.spread()}", file=sys.stderr, flush=True)
        proxy.close()
