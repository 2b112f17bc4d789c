#!/usr/bin/env python3
"""Fuzzes a running `clickprompt serve` on loopback with malformed and mutated requests.

  python3 bench/serve_fuzz.py --port 18080 --model dcnv2 --body runs/serve-bench/body-dcnv2-1.json [-n 10000]

Each case opens a connection, sends one request (a mutated body, request line or
headers) with `Connection: close` and reads until the server closes (5 s at most; 0.3 s
where the request's framing is incomplete, as the server then rightly waits for more). It counts: well-formed HTTP answers by
status, connections the server closed without an answer (allowed only where the
request's framing is incomplete or unparseable), malformed answers (must be 0), and
whether the server still answers the valid request exactly as before (must be yes).
Exits non-zero on a malformed answer, a dead server or a changed score. Bounded:
n cases, each with a 5 s socket timeout; traffic goes to 127.0.0.1 only.
"""
import argparse, collections, json, random, re, socket, sys, time
from concurrent.futures import ThreadPoolExecutor

STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n")


def exchange(port, raw, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early (e.g. 413 before the whole body): read its answer
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def request(path, body, headers=None, method=b"POST", version=b"HTTP/1.1"):
    h = {b"Host": b"127.0.0.1", b"Content-Type": b"application/json", b"Content-Length": str(len(body)).encode(),
         b"Connection": b"close"}
    if headers:
        h.update(headers)
    lines = [method + b" " + path + b" " + version] + [k + b": " + v for k, v in h.items() if v is not None]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def well_formed(resp):
    """(status, ok): a status line, headers ended by CRLFCRLF, and a body of Content-Length bytes."""
    m = STATUS.match(resp)
    if not m or b"\r\n\r\n" not in resp:
        return None, False
    head, body = resp.split(b"\r\n\r\n", 1)
    cl = re.search(rb"(?im)^content-length: *(\d+)\r?$", head)
    if cl and int(cl.group(1)) != len(body):
        return int(m.group(1)), False
    return int(m.group(1)), True


def mutate_json(rng, obj):
    """A structurally mutated copy of the request object."""
    o = json.loads(json.dumps(obj))
    inputs = o["inputs"]
    k = rng.randrange(14)
    i = rng.randrange(len(inputs))
    if k == 0:
        del inputs[i]
    elif k == 1:
        inputs[i]["datatype"] = rng.choice(["FP32", "INT64", "", None, 7, "bytes"])
    elif k == 2:
        inputs[i]["shape"] = rng.choice([[], [-1], [2], [1, 2], [1, 1, 1], ["1"], None, [2**62], [10**30]])
    elif k == 3:
        inputs[i]["data"] = rng.choice([[], [None], [[]], [[["x"]]], [{}], [True], ["a", "b"], "x", None, [1e308], [-0.0]])
    elif k == 4:
        inputs[i]["name"] = rng.choice(["", "zzz", None, 5, inputs[i]["name"] + "\u0000", "é" * 300])
    elif k == 5:
        inputs.append(json.loads(json.dumps(inputs[i])))
    elif k == 6:
        o["inputs"] = rng.choice([None, {}, "x", [], [1], 3])
    elif k == 7:
        o[rng.choice(["outputs", "parameters", "id", "extra"])] = rng.choice([None, [], [{"name": "logit"}], 1, "x", {}])
    elif k == 8:
        inputs[i]["data"] = ["\ud800" if rng.random() < 0.5 else "x" * rng.randrange(1, 100000)]
    elif k == 9:
        del inputs[i][rng.choice(["name", "datatype", "shape", "data"])]
    elif k == 10:
        n = rng.randrange(0, 3000)
        for inp in inputs:
            inp["shape"] = [n]
            inp["data"] = [inp["data"][0]] * n
    elif k == 11:
        return "[" * rng.randrange(1, 200000) + "]" * rng.randrange(0, 3)
    elif k == 12:
        return rng.choice(['{"inputs": [' + '{"a":' * 5000 + "1" + "}" * 5000 + "]}", "{}" * 1000, "null", "1e999999", '"\\u00'])
    else:
        inputs[i]["parameters"] = rng.choice([None, 1, {"x": [1, {"y": None}]}])
    return json.dumps(o, ensure_ascii=rng.random() < 0.5, allow_nan=True)


def case(rng, path, body_obj, body):
    """(raw request, framing_complete)."""
    k = rng.randrange(10)
    if k <= 3:  # structurally mutated JSON, correct framing
        b = mutate_json(rng, body_obj).encode("utf-8", "surrogatepass")
        return request(path, b), True
    if k == 4:  # random bytes flipped / inserted / cut
        b = bytearray(body)
        for _ in range(rng.randrange(1, 20)):
            op = rng.randrange(3)
            p = rng.randrange(len(b) + 1)
            if op == 0 and b:
                b[min(p, len(b) - 1)] = rng.randrange(256)
            elif op == 1:
                b[p:p] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
            else:
                del b[p:p + rng.randrange(1, 30)]
        return request(path, bytes(b)), True
    if k == 5:  # Content-Length lies or is bad (framing incomplete when larger)
        cl = rng.choice([b"-1", b"abc", b"99999999999999999999", str(len(body) + rng.randrange(1, 1000)).encode(), b"0",
                         b"1", b" 5", b"0x10"])
        return request(path, body, {b"Content-Length": cl}), False
    if k == 6:  # chunked bodies, good and bad
        chunks = rng.choice([b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n", b"zz\r\n" + body, b"ffffffffffffffff\r\nab",
                             b"5\r\nabc\r\n0\r\n\r\n"])
        return request(path, chunks, {b"Content-Length": None, b"Transfer-Encoding": b"chunked"}), False
    if k == 7:  # request line
        method = rng.choice([b"GET", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"BREW", b"", b"P\x00ST", b"POST" * 100])
        p = rng.choice([path, b"/", b"/v2/models//infer", b"/v2/models/" + b"a" * 10000 + b"/infer", b"*", b"v2",
                        b"/v2/models/%00/infer", b"/v2/models/x/versions/../infer", b"/metrics?x=" + b"%" * 100])
        version = rng.choice([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9", b"", b"FOO"])
        return request(p, body, method=method, version=version), False
    if k == 8:  # headers
        h = rng.choice([{b"Content-Type": b"text/plain"}, {b"Content-Type": None}, {b"X-" + b"a" * 9000: b"1"},
                        {b"Host": None}, {b"Expect": b"100-continue"}, {b"Content-Encoding": b"gzip"},
                        {(b"X-%d" % i): b"v" for i in range(300)}, {b"Bad Header": b"x"}, {b"X": b"a\r\nInjected: 1"}])
        return request(path, body, h), False
    # raw garbage
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))), False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--body", required=True, help="a valid infer request body (JSON file)")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=8)
    a = ap.parse_args()
    path = ("/v2/models/%s/infer" % a.model).encode()
    body = open(a.body, "rb").read()
    body_obj = json.loads(body)
    reference = exchange(a.port, request(path, body))
    ref_status, ok = well_formed(reference)
    if ref_status != 200 or not ok:
        sys.exit("the valid request does not get a 200: %r" % reference[:300])
    ref_body = reference.split(b"\r\n\r\n", 1)[1]
    rngs = [random.Random(a.seed * 1000003 + i) for i in range(a.n)]
    counts = collections.Counter()
    bad = []

    def run(i):
        raw, complete = case(rngs[i], path, body_obj, body)
        try:
            resp = exchange(a.port, raw, 5.0 if complete else 0.3)
        except ConnectionRefusedError:
            return i, "refused", raw, b""
        except OSError as e:
            return i, "socket error %s" % e.__class__.__name__, raw, b""
        if not resp:
            return i, "closed without answer" + ("" if not complete else " (complete request!)"), raw, resp
        status, ok = well_formed(resp)
        return i, ("status %d" % status) if ok else "MALFORMED", raw, resp

    t0 = time.time()
    with ThreadPoolExecutor(a.workers) as ex:
        for i, what, raw, resp in ex.map(run, range(a.n)):
            counts[what] += 1
            if what in ("MALFORMED", "refused") or "complete request" in what or what.startswith("status 5"):
                bad.append((i, what, raw[:200], resp[:300]))
    after = exchange(a.port, request(path, body))
    same = after.split(b"\r\n\r\n", 1)[-1] == ref_body
    live = well_formed(exchange(a.port, request(b"/v2/health/live", b"", method=b"GET")))[0] == 200
    print(json.dumps({"cases": a.n, "seconds": round(time.time() - t0, 1), "outcomes": dict(sorted(counts.items())),
                      "problems": len(bad), "still_live": live, "same_scores_after": same}))
    for i, what, raw, resp in bad[:10]:
        print("case", i, what, "request:", raw, "answer:", resp, file=sys.stderr)
    sys.exit(0 if not bad and live and same else 1)


if __name__ == "__main__":
    main()
