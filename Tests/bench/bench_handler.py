#!/usr/bin/env python3
"""`make bench-handler`: wrk through nginx against `gatehouse serve`, and the C reference.

usage: bench_handler.py --gatehouse BIN [--work var/bench-handler] [--people 100000]
                        [--requests 1000000] [--sessions 1000] [--runs 3] [--duration 10]
                        [--variants t1,t2,p2] [--baseline ../shared/bench-baseline]

1. Seeds a database the way the store writes it (migrations by `gatehouse serve` itself, then
   rows inserted with sqlite3): PEOPLE people who signed in (7 in 10 internal), one session each
   (cookie value = a random prefix + the person's 7-digit number; the store keeps its SHA-256),
   and REQUESTS past requests spread over them, all ended (expired, denied with a decision,
   canceled) so that none blocks a new one. Their policy snapshot and answers are copied from two
   requests submitted through nginx and the handler while seeding. The seeded file is kept in
   WORK/seed/ and reused while its parameters and the schema are unchanged (--reseed forces it).
2. Starts nginx (nginx/gatehouse.conf.in, as nginx/render-conf.sh fills it, access log off, plus
   a /ref/ location for the reference) on a free loopback port and `gatehouse serve` on a unix socket.
3. wrk -t2 -c32 --latency: (a) GET /my/requests/ as SESSIONS different people in turn; (b) POST
   /requests, each post a valid new request for another person (internal people: the internal
   package without approval, delivered at once; external people: the contractor package, left
   pending approval); success = 303 to /my/requests/<id>/, anything else is counted as bad.
   Skipped with a message when the handler has no POST /requests yet (404/405).
   Before every timed POST run the rows earlier runs added are deleted, so each run starts alike.
4. The C libfcgi + SQLite reference (BASELINE/src/fcgi_app.c, gcc, spawn-fcgi, WAL,
   synchronous=FULL like the store) behind the same nginx, with the baseline's POST body.
5. Prints requests/s, p50 and p99 (each the median of RUNS runs) and the ratios; writes
   WORK/results.txt. Every process it started is stopped at the end, whatever happens.
   After each POST run it reports the mail queued, the backlog when wrk stopped, and how long the
   handler's mail pump took to drain it. BENCH_SERVE_ARGS in the environment adds options to
   gatehouse serve, e.g. "--mail-interval 1000" to measure posts with the mail sender idle.
Only the standard library is used.
"""
import argparse
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
NGINX = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "nginx"
COOKIE_NAME = "gatehouse_session"
ORIGIN = "http://127.0.0.1:8080"  # the example site's baseURL: the origin check compares with it
INTERNAL_TENTHS = 7               # person i is internal when i % 10 < 7
EXTERNAL_DOMAINS = ["example.net", "example.org", "mail.example", "partner.example"]
INTERNAL_PACKAGE = ("internal-access-package", "members")
EXTERNAL_PACKAGE = ("external-contractor", "contractors")
INTERNAL_BODY = ("package=internal-access-package&policy=members&language=en"
                 "&justification=Starting+on+the+lab+project+next+week.")
EXTERNAL_BODY = ("package=external-contractor&policy=contractors&language=en"
                 "&justification=Contract+for+the+documentation+project%2C+March+to+June."
                 "&answer.final=argentina&answer.company=Fabrikam")
RESERVED = 10  # the last RESERVED people are kept out of the pools: templates and checks


def log(message):
    print(message, flush=True)


class BenchError(Exception):
    pass


# MARK: Processes

class Processes:
    """Every process the bench starts, so that all of them stop at the end."""

    def __init__(self):
        self.popens = []
        self.pids = []  # spawn-fcgi children (reparented, not ours to wait for)

    def popen(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.popens.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.popens:
            self.popens.remove(p)

    def stop_pids(self, pids, timeout=10):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + timeout
        for pid in pids:
            while time.time() < deadline and alive(pid):
                time.sleep(0.05)
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:  # ours to reap when we are the subreaper (see main)
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            if pid in self.pids:
                self.pids.remove(pid)

    def stop_all(self):
        self.stop_pids(list(self.pids))
        for p in list(reversed(self.popens)):
            self.stop(p, signal.SIGQUIT if os.path.basename(p.args[0]) == "nginx" else signal.SIGTERM)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of spawn-fcgi's init is gone for our purposes
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


HZ = os.sysconf("SC_CLK_TCK")


def process_table():
    """pid -> (ppid, start time, own CPU ticks, waited-for children's CPU ticks, command name)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                head, tail = f.read().rsplit(") ", 1)
                fields = tail.split()
        except (OSError, ValueError):
            continue
        table[int(name)] = (int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12]),
                            int(fields[13]) + int(fields[14]), head.split(" (", 1)[-1])
    return table


def busy_ticks():
    """User, nice and system ticks of the whole machine (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return fields[0] + fields[1] + fields[2]


def descendants(table, roots):
    out, todo = set(), list(roots)
    children = {}
    for pid, row in table.items():
        children.setdefault(row[0], []).append(pid)
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo.extend(children.get(pid, []))
    return out


class ForeignCPU:
    """How much of the machine's CPU other processes used during a run: the machine's busy time
    minus that of the bench, its servers and wrk (its descendants), and of kernel threads
    (writeback and the like, which the bench's own fsyncs cause)."""

    def __init__(self):
        self.t0 = time.time()
        self.busy = busy_ticks()
        self.before = process_table()

    def share(self):
        elapsed = time.time() - self.t0
        busy = busy_ticks() - self.busy
        after = process_table()
        me = os.getpid()
        ours = descendants(after, [me])
        excluded = 0
        self.by_command = {}
        for pid, (ppid, start, own, waited, command) in after.items():
            if pid in ours or pid == 2 or ppid == 2:
                old = self.before.get(pid)
                same = old is not None and old[1] == start
                excluded += own - (old[2] if same else 0)
                if pid in ours and pid != me:
                    self.by_command[command] = self.by_command.get(command, 0) + own - (old[2] if same else 0)
                if pid == me:
                    excluded += waited - (old[3] if same else 0)  # wrk and other finished children
                    self.by_command["wrk"] = waited - (old[3] if same else 0)
        return max(0.0, (busy - excluded) / (elapsed * HZ * os.cpu_count()))

    def per_request(self, requests):
        """CPU milliseconds per request of each of the bench's own programs (gatehouse, nginx, wrk...)."""
        return {c: 1000.0 * t / HZ / max(1, requests) for c, t in self.by_command.items() if t > 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what, timeout=30, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise BenchError("%s: the process exited with status %s (see its log)" % (what, process.returncode))
        time.sleep(0.05)
    raise BenchError("%s: not ready after %d s" % (what, timeout))


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# MARK: Times and hashes as the store writes them

def db_time(t):
    """GRDB's Date format: UTC `YYYY-MM-DD HH:MM:SS.SSS`."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000)


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def fnv1a64_hex(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def terms_of_use(site):
    """tenant.yaml's `termsOfUse: |` block as YAML reads it (clip chomping: one final newline)."""
    lines = open(os.path.join(site, "tenant.yaml"), encoding="utf-8").read().split("\n")
    for n, line in enumerate(lines):
        if re.match(r"^termsOfUse:\s*\|\s*$", line):
            block = []
            indent = None
            for body in lines[n + 1:]:
                if body.strip() == "":
                    block.append("")
                    continue
                lead = len(body) - len(body.lstrip(" "))
                if indent is None:
                    indent = lead
                if lead < indent:
                    break
                block.append(body[indent:])
            while block and block[-1] == "":
                block.pop()
            return "\n".join(block) + "\n" if block else ""
        if re.match(r"^termsOfUse:", line):
            raise BenchError("tenant.yaml: termsOfUse is not a `|` block; the bench cannot compute its version")
    return ""


def email_of(i):
    if i % 10 < INTERNAL_TENTHS:
        return "p%07d@contoso.example" % i
    return "x%07d@%s" % (i, EXTERNAL_DOMAINS[(i // 10) % len(EXTERNAL_DOMAINS)])


def is_internal(i):
    return i % 10 < INTERNAL_TENTHS


def cookie(prefix, i):
    return "%s%07d" % (prefix, i)


# MARK: nginx and the servers

class Stack:
    """nginx on a free loopback port in front of gatehouse serve (or nothing yet) and the reference."""

    def __init__(self, procs, args, work, public):
        self.procs, self.args, self.work, self.public = procs, args, work, public
        self.prefix = os.path.join(work, "nginx")
        self.socket = os.path.join(work, "run", "gatehouse.sock")
        self.ref_socket = os.path.join(work, "run", "ref.sock")
        self.port = free_port()
        self.nginx = None
        self.serve = None
        self.serve_pids = []
        self.ref_pids = []

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start_nginx(self):
        os.makedirs(self.prefix, exist_ok=True)
        os.makedirs(os.path.dirname(self.socket), exist_ok=True)
        conf = subprocess.run(
            [os.path.join(REPO, "nginx", "render-conf.sh"), self.prefix, self.public,
             "127.0.0.1:%d" % self.port, self.socket],
            check=True, capture_output=True, text=True).stdout
        # Measured without access logging, like the baseline (both routes alike).
        conf, n = re.subn(r'(?m)^(\s*)access_log\s+[^;]*;', r'\1access_log off;', conf)
        if n != 1:
            raise BenchError("nginx/gatehouse.conf.in: expected one access_log line, found %d" % n)
        ref = ('        # bench-handler: the C libfcgi + SQLite reference\n'
               '        location /ref/ {\n'
               '            include /etc/nginx/fastcgi_params;\n'
               '            fastcgi_param SCRIPT_NAME /ref;\n'
               '            fastcgi_pass "unix:%s";\n'
               '        }\n' % self.ref_socket)
        anchor = "        location = /requests {"
        if anchor not in conf:
            raise BenchError("nginx/gatehouse.conf.in has no `location = /requests` to put /ref/ beside")
        conf = conf.replace(anchor, ref + anchor, 1)
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            f.write(conf)
        errors = open(os.path.join(self.work, "logs", "nginx.stderr"), "ab")
        self.nginx = self.procs.popen(
            [NGINX, "-p", self.prefix + "/", "-c", os.path.join(self.prefix, "nginx.conf"),
             "-e", os.path.join(self.prefix, "error.log")], stdout=errors, stderr=errors)
        wait_for(lambda: port_open(self.port), "nginx on port %d" % self.port, process=self.nginx)

    def serve_args(self, db, workers, inherited=False):
        a = [os.path.abspath(self.args.gatehouse), "serve", "--site", self.args.site, "--templates",
             self.args.templates, "--db", db, "--mail-dir", os.path.join(self.work, "mail"),
             "--workers", str(workers)] + os.environ.get("BENCH_SERVE_ARGS", "").split()
        return a + (["--inherited-socket"] if inherited else ["--socket", self.socket])

    def start_serve(self, db, variant):
        """variant: ("threads", N) = one process with N worker threads; ("processes", N) = N
        processes of one thread each, forked by spawn-fcgi on one socket (as in the baseline)."""
        self.stop_serve()
        if os.path.exists(self.socket):
            os.remove(self.socket)
        logfile = open(os.path.join(self.work, "logs", "serve.log"), "ab")
        kind, n = variant
        if kind == "threads":
            self.serve = self.procs.popen(self.serve_args(db, n), stdout=logfile, stderr=logfile)
            wait_for(lambda: os.path.exists(self.socket), "gatehouse serve", process=self.serve)
        else:
            self.serve_pids = spawn_fcgi(self.procs, self.socket, n, self.serve_args(db, 1, inherited=True),
                                         os.path.join(self.work, "run", "serve.pids"), logfile)
        # The socket exists before the first accept(); ask until a page comes back.
        wait_for(lambda: http(self.url + "/my/requests/")[0] in (200, 302, 303), "gatehouse behind nginx")

    def stop_serve(self):
        if self.serve is not None:
            self.procs.stop(self.serve)
            self.serve = None
        if self.serve_pids:
            self.procs.stop_pids(self.serve_pids)
            self.serve_pids = []

    def start_ref(self, binary, db, processes):
        self.stop_ref()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        if os.path.exists(self.ref_socket):
            os.remove(self.ref_socket)
        logfile = open(os.path.join(self.work, "logs", "ref.log"), "ab")
        self.ref_pids = spawn_fcgi(self.procs, self.ref_socket, processes, [binary, "sqlite", db, "FULL"],
                                   os.path.join(self.work, "run", "ref.pids"), logfile)
        wait_for(lambda: http(self.url + "/ref/", data=b"name=x")[0] == 200, "the C reference behind nginx")

    def stop_ref(self):
        if self.ref_pids:
            self.procs.stop_pids(self.ref_pids)
            self.ref_pids = []

    def stop(self):
        self.stop_serve()
        self.stop_ref()
        if self.nginx is not None:
            self.procs.stop(self.nginx, signal.SIGQUIT)
            self.nginx = None


def spawn_fcgi(procs, sock, n, argv, pidfile, logfile):
    if os.path.exists(pidfile):
        os.remove(pidfile)
    # spawn-fcgi binds the socket, forks N children that accept() on it as fd 0, writes their
    # PIDs to the pid file and exits. The children keep its stdout and stderr: the log file.
    status = subprocess.run(["spawn-fcgi", "-s", sock, "-M", "0660", "-F", str(n), "-P", pidfile, "--"] + argv,
                            stdout=logfile, stderr=logfile).returncode
    pids = []
    if os.path.exists(pidfile):
        pids = [int(p) for p in open(pidfile).read().split()]
    procs.pids.extend(pids)
    if status != 0 or len(pids) != n:
        raise BenchError("spawn-fcgi %s exited with %d and started %d of %d processes"
                         % (os.path.basename(argv[0]), status, len(pids), n))
    return pids


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(url, data=None, headers=None):
    """(status, headers, body) without following redirects; (0, {}, error) when nothing answered."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")
    except OSError as e:
        return 0, {}, str(e)


def post_request(stack, prefix, i, body):
    return http(stack.url + "/requests", data=body.encode(), headers={
        "Cookie": "%s=%s" % (COOKIE_NAME, cookie(prefix, i)), "Origin": ORIGIN,
        "Content-Type": "application/x-www-form-urlencoded"})


# MARK: Seeding

def connect(path):
    db = sqlite3.connect(path, isolation_level=None, timeout=10)
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def seed(args, procs, work, public, path):
    """Writes a new seeded database at `path`; returns its metadata."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    rng = random.Random(20261123)
    prefix = secrets.token_hex(12)
    now = datetime.now(timezone.utc)
    people = args.people
    t0 = time.time()

    stack = Stack(procs, args, work, public)
    stack.start_nginx()
    try:
        # `gatehouse serve` opens the store: it creates the file and runs the migrations.
        stack.start_serve(path, ("threads", 1))
        db = connect(path)
        with_terms = terms_of_use(args.site)
        terms_version = fnv1a64_hex(with_terms.encode()) if with_terms.strip() else None
        db.execute("BEGIN IMMEDIATE")
        rows = []
        for i in range(people):
            email = email_of(i)
            first = now - timedelta(days=rng.randint(30, 1000), seconds=rng.randint(0, 86399))
            last = now - timedelta(hours=1)
            ext = 0 if is_internal(i) else 1
            accepted = db_time(first) if ext and terms_version else None
            rows.append((email, email, ext, accepted, terms_version if accepted else None,
                         db_time(first), db_time(last)))
        db.executemany(
            "INSERT INTO person (email, display_name, is_external, terms_accepted_at, terms_version,"
            " first_sign_in_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        created = now - timedelta(hours=1)
        db.executemany(
            "INSERT INTO session (id_hash, email, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            ((sha256_hex(cookie(prefix, i)), email_of(i), db_time(created), db_time(created),
              db_time(created + timedelta(days=7))) for i in range(people)))
        db.execute("COMMIT")
        log("  %d people and %d sessions (%.1f s)" % (people, people, time.time() - t0))

        # Two real submissions give the policy snapshots and answers exactly as the handler writes them.
        templates = {}
        internal_i = next(i for i in range(people - 1, -1, -1) if is_internal(i))
        external_i = next(i for i in range(people - 1, -1, -1) if not is_internal(i))
        for kind, i, body, (package, policy) in (("internal", internal_i, INTERNAL_BODY, INTERNAL_PACKAGE),
                                                  ("external", external_i, EXTERNAL_BODY, EXTERNAL_PACKAGE)):
            status, headers, text = post_request(stack, prefix, i, body)
            row = db.execute(
                "SELECT policy_snapshot, answers, justification FROM request WHERE requestor_email = ? AND package_id = ?",
                (email_of(i), package)).fetchone()
            if status == 303 and row:
                templates[kind] = {"snapshot": row[0], "answers": row[1], "justification": row[2],
                                   "domain": email_of(i).split("@")[1]}
            elif status in (404, 405):
                log("  POST /requests answers %d: no submission route yet; past requests get a minimal snapshot" % status)
                break
            else:
                raise BenchError("seeding: POST /requests for %s answered %d (Location %s), expected 303 with a "
                                 "stored request; body starts: %s" % (email_of(i), status, headers.get("Location"),
                                                                      text[:300]))
        db.close()
    finally:
        stack.stop()
    synthetic = len(templates) < 2
    if synthetic:
        for kind, (package, policy) in (("internal", INTERNAL_PACKAGE), ("external", EXTERNAL_PACKAGE)):
            templates[kind] = {
                "snapshot": json.dumps({"policy": {"id": policy}, "requestor": {
                    "domain": "contoso.example" if kind == "internal" else "example.net",
                    "internal": kind == "internal", "organization": None}}, sort_keys=True, separators=(",", ":")),
                "answers": "[]", "justification": "", "domain": "contoso.example" if kind == "internal" else "example.net"}

    # The past requests: ended ones only (expired; for the contractor package also denied, with
    # the approver's decision, and canceled), so none is an open request or an active assignment.
    t1 = time.time()
    db = connect(path)
    db.execute("PRAGMA journal_mode = DELETE")  # a bulk load needs no WAL; switched back below
    db.execute("PRAGMA synchronous = OFF")
    snapshots = {}
    for kind in ("internal", "external"):
        tpl = templates[kind]
        for domain in (["contoso.example"] if kind == "internal" else EXTERNAL_DOMAINS):
            snapshots[(kind, domain)] = tpl["snapshot"].replace(
                '"domain":"%s"' % tpl["domain"], '"domain":"%s"' % domain)
    db.execute("BEGIN")
    span = 3 * 365 * 86400
    chunk = 50_000
    done = 0
    while done < args.requests:
        reqs, decisions = [], []
        for _ in range(min(chunk, args.requests - done)):
            i = rng.randrange(people - RESERVED)
            email = email_of(i)
            kind = "internal" if is_internal(i) else "external"
            package, policy = INTERNAL_PACKAGE if kind == "internal" else EXTERNAL_PACKAGE
            created = now - timedelta(seconds=rng.randint(86400, span))
            rid = "%032x" % rng.getrandbits(128)
            if kind == "internal":
                state = "expired"
            else:
                state = rng.choice(("denied", "expired", "canceled"))
            updated = min(created + timedelta(days=rng.randint(1, 30)), now - timedelta(hours=2))
            window = int(created.timestamp() // 600)
            key = "post:%s:%s:%s:%s:%d" % (email, package, policy, sha256_hex(rid), window)
            tpl = templates[kind]
            reqs.append((rid, key, email, package, policy, snapshots[(kind, email.split("@")[1])],
                         tpl["justification"], tpl["answers"], state, db_time(created), db_time(updated)))
            if kind == "external" and state in ("denied", "expired"):
                decided = created + timedelta(hours=rng.randint(1, 48))
                decisions.append((rid, "adele@contoso.example", "deny" if state == "denied" else "approve",
                                  "Not for this project." if state == "denied" else "Approved for the contract.",
                                  db_time(decided)))
        db.executemany(
            "INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,"
            " policy_snapshot, language, justification, answers, state, escalated, created_at, updated_at)"
            " VALUES (?, ?, 'add', 'user', ?, ?, ?, ?, 'en', ?, ?, ?, 0, ?, ?)", reqs)
        db.executemany(
            "INSERT INTO decision (request_id, stage, approver_email, decision, justification, decided_at)"
            " VALUES (?, 1, ?, ?, ?, ?)", decisions)
        done += len(reqs)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    log("  %d past requests (%.1f s)%s" % (args.requests, time.time() - t1,
                                          "; minimal snapshots: no POST route at seeding time" if synthetic else ""))
    return {"people": people, "requests": args.requests, "prefix": prefix, "synthetic": synthetic,
            "schema": schema_hash(), "site": site_hash(args.site), "seeded_at": db_time(now)}


def schema_hash():
    with open(os.path.join(REPO, "Sources", "GatehouseStore", "Schema.swift"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def site_hash(site):
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(site)):
        dirs.sort()
        for name in sorted(files):
            with open(os.path.join(root, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def seeded_database(args, procs, work, public):
    folder = os.path.join(work, "seed")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "seed-%d-%d.sqlite" % (args.people, args.requests))
    meta_path = path + ".json"
    want = {"people": args.people, "requests": args.requests, "schema": schema_hash(), "site": site_hash(args.site)}
    if not args.reseed and os.path.exists(path) and os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        if all(meta.get(k) == v for k, v in want.items()) and not meta.get("synthetic"):
            log("Reusing the seeded database %s (--reseed makes a new one)" % os.path.relpath(path))
            return path, meta
    log("Seeding %s: %d people, %d past requests" % (os.path.relpath(path), args.people, args.requests))
    meta = seed(args, procs, work, public, path)
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    return path, meta


def fresh_copy(seed_path, db_path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    shutil.copyfile(seed_path, db_path)
    db = connect(db_path)
    now = datetime.now(timezone.utc)
    # Sessions idle for 8 hours are over: the copy's sessions were last seen just now.
    db.execute("UPDATE session SET last_seen_at = ?, expires_at = ?",
               (db_time(now - timedelta(minutes=1)), db_time(now + timedelta(days=6))))
    db.close()


class Marks:
    """The largest rowids before a run: what the run adds is above them and can be deleted."""

    TABLES = ("request", "assignment", "resource_grant", "decision", "outbox")

    def __init__(self, db_path):
        self.path = db_path
        db = connect(db_path)
        self.max = {t: db.execute("SELECT coalesce(max(rowid), 0) FROM %s" % t).fetchone()[0] for t in self.TABLES}
        db.close()

    def added_requests(self):
        db = connect(self.path)
        n = db.execute("SELECT count(*) FROM request WHERE rowid > ?", (self.max["request"],)).fetchone()[0]
        db.close()
        return n

    def mail_backlog(self):
        """(messages queued since the marks, of which not yet delivered)."""
        db = connect(self.path)
        row = db.execute("SELECT count(*), count(*) - count(sent_at) FROM outbox WHERE rowid > ?",
                         (self.max["outbox"],)).fetchone()
        db.close()
        return row

    def reset(self):
        db = connect(self.path)
        db.execute("BEGIN IMMEDIATE")
        for t in ("resource_grant", "assignment", "decision", "request"):
            db.execute("DELETE FROM %s WHERE rowid > ?" % t, (self.max[t],))
        db.execute("DELETE FROM outbox WHERE rowid > ? AND sent_at IS NOT NULL", (self.max["outbox"],))
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()


# MARK: wrk

def wrk(args, work, script, url, env, duration, procs=None):
    path = os.path.join(work, "lua", script)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(open(os.path.join(HERE, script)).read() + "\n" + open(os.path.join(HERE, "bench_handler_report.lua")).read())
    cpu = ForeignCPU() if procs else None
    out = subprocess.run(["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % duration, "--latency",
                          "-s", path, url], env=dict(os.environ, **env), capture_output=True, text=True)
    with open(os.path.join(work, "logs", "wrk.log"), "a") as f:
        f.write("$ wrk %s %s (%ds)\n%s%s\n" % (script, url, duration, out.stdout, out.stderr))
    m = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    time.sleep(0.5)  # requests in flight when wrk stopped finish before rows are counted or reset
    if out.returncode != 0 or not m:
        raise BenchError("wrk failed (%d): %s %s" % (out.returncode, out.stdout[-500:], out.stderr[-500:]))
    r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["errors"] = r["bad"] + r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
    r["foreign"] = cpu.share() if cpu else 0.0
    r["cpu_ms"] = cpu.per_request(r["requests"]) if cpu else {}
    return r


def measure(args, work, procs, label, script, url, env, before_each=None, after_each=None):
    """A warm-up that is not counted, then RUNS timed runs; the medians of req/s, p50 and p99."""
    if before_each:
        before_each()
    wrk(args, work, script, url, env, min(2, args.duration))
    runs = []
    for n in range(args.runs):
        if before_each:
            before_each()
        r = wrk(args, work, script, url, env, args.duration, procs)
        if after_each:
            after_each(r)
        runs.append(r)
        cpu = ", ".join("%s %.3f" % (c, ms) for c, ms in sorted(r["cpu_ms"].items(), key=lambda kv: -kv[1])
                        if c != "python3")
        log("  %-34s run %d: %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d%s  foreign CPU %.0f%%%s" % (
            label, n + 1, r["rps"], r["p50_us"] / 1000, r["p99_us"] / 1000, r["errors"], r.get("note", ""),
            100 * r["foreign"], "  CPU ms/request: " + cpu if cpu else ""))
    return {"label": label, "runs": runs,
            "rps": statistics.median(r["rps"] for r in runs),
            "p50": statistics.median(r["p50_us"] for r in runs) / 1000,
            "p99": statistics.median(r["p99_us"] for r in runs) / 1000,
            "errors": sum(r["errors"] for r in runs), "foreign": max(r["foreign"] for r in runs)}


def parse_variants(text):
    out = []
    for v in filter(None, (s.strip() for s in text.split(","))):
        m = re.fullmatch(r"([tp])(\d+)", v)
        if not m or int(m.group(2)) < 1:
            raise SystemExit("--variants: '%s' is not tN (one process, N threads) or pN (N processes)" % v)
        out.append(("threads" if m.group(1) == "t" else "processes", int(m.group(2))))
    return out


def variant_name(v):
    return "%d thread%s" % (v[1], "s" if v[1] > 1 else "") if v[0] == "threads" else "%d processes" % v[1]


# MARK: Main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", required=True, help="the gatehouse binary (a release build)")
    ap.add_argument("--work", default="var/bench-handler")
    ap.add_argument("--site", default="site")
    ap.add_argument("--templates", default="templates")
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--sessions", type=int, default=1_000, help="signed-in people the history GETs rotate over")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=16, help="gatehouse serve worker threads for the main runs")
    ap.add_argument("--variants", default="t32,p2",
                    help="extra POST runs: tN = one process with N threads, pN = N one-thread processes "
                         "(spawn-fcgi); empty for none")
    ap.add_argument("--variant-runs", type=int, default=None, help="runs per variant (default: --runs)")
    ap.add_argument("--ref-processes", type=int, default=1, help="C reference processes (1 was best at FULL)")
    ap.add_argument("--baseline", default="../shared/bench-baseline")
    ap.add_argument("--reseed", action="store_true", help="seed a new database even if a matching one is kept")
    ap.add_argument("--seed-only", action="store_true", help="only make (or check) the seeded database")
    args = ap.parse_args()
    variants = parse_variants(args.variants)
    if args.runs < 1 or args.duration < 1:
        raise SystemExit("--runs and --duration must be at least 1")
    if args.people < 100 or args.sessions + RESERVED + 100 > args.people:
        raise SystemExit("--people must exceed --sessions by at least %d" % (RESERVED + 100))
    for tool in ("wrk", "spawn-fcgi", "gcc"):
        if not shutil.which(tool):
            raise SystemExit("%s is not installed (make bench-handler installs it)" % tool)

    args.site, args.templates = os.path.abspath(args.site), os.path.abspath(args.templates)
    work = os.path.abspath(args.work)
    for sub in ("logs", "run", "mail", "lua"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    procs = Processes()
    try:  # spawn-fcgi's children are reparented to us instead of init, so we can reap them
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run(args, variants, work, procs)
    except BenchError as e:
        print("bench-handler: %s (logs in %s/logs/)" % (e, os.path.relpath(work)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench-handler: interrupted", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        shutil.rmtree(os.path.join(work, "mail"), ignore_errors=True)


def run(args, variants, work, procs):
    log("%s, load average %s" % (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                 " ".join(open("/proc/loadavg").read().split()[:3])))
    public = os.path.join(work, "public")
    shutil.rmtree(public, ignore_errors=True)
    subprocess.run([args.gatehouse, "build", "--site", args.site, "--templates", args.templates, "--out", public],
                   check=True, stdout=subprocess.DEVNULL)

    seed_path, meta = seeded_database(args, procs, work, public)
    if args.seed_only:
        return 0
    prefix = meta["prefix"]
    db_path = os.path.join(work, "gatehouse.sqlite")
    fresh_copy(seed_path, db_path)

    ref_bin = os.path.join(work, "ref", "fcgi_app")
    os.makedirs(os.path.dirname(ref_bin), exist_ok=True)
    src = os.path.join(args.baseline, "src", "fcgi_app.c")
    if not os.path.exists(src):
        raise BenchError("the C reference %s is missing (--baseline)" % src)
    subprocess.run(["gcc", "-O2", "-Wall", "-o", ref_bin, src, "-lfcgi", "-lsqlite3"], check=True)

    stack = Stack(procs, args, work, public)
    stack.start_nginx()
    main_variant = ("threads", args.workers)
    stack.start_serve(db_path, main_variant)
    results = []
    common = {"BENCH_COOKIE_NAME": COOKIE_NAME, "BENCH_COOKIE_PREFIX": prefix}

    # (a) The history page.
    status, _, body = http(stack.url + "/my/requests/", headers={"Cookie": "%s=%s" % (COOKIE_NAME, cookie(prefix, 0))})
    if status != 200 or email_of(0) not in body:
        raise BenchError("GET /my/requests/ as %s answered %d, expected 200 with their history" % (email_of(0), status))
    histories = connect(db_path).execute(
        "SELECT count(*) FROM request WHERE requestor_email IN (%s)" % ",".join("?" * args.sessions),
        [email_of(i) for i in range(args.sessions)]).fetchone()[0]
    log("GET /my/requests/ as %d people (%.1f past requests each on average), gatehouse serve --workers %d"
        % (args.sessions, histories / args.sessions, args.workers))
    results.append(("GET /my/requests/ (history)", measure(
        args, work, procs, "gatehouse GET history", "bench_handler_get.lua", stack.url + "/my/requests/",
        dict(common, BENCH_FIRST="0", BENCH_COUNT=str(args.sessions)))))

    # (b) Request submission, when the handler has the route.
    probe = min(i for i in range(args.people - RESERVED, args.people) if is_internal(i))  # not the template
    status, headers, body = post_request(stack, prefix, probe, INTERNAL_BODY)
    post_results = []
    marks = Marks(db_path)
    if status in (404, 405):
        log("POST /requests answers %d: the handler has no request submission yet; skipping the POST runs" % status)
    elif status != 303 or not headers.get("Location", "").startswith("/my/requests/"):
        raise BenchError("POST /requests as %s answered %d (Location %s), expected 303 to /my/requests/<id>/: %s"
                         % (email_of(probe), status, headers.get("Location"), body[:300]))
    else:
        first = args.sessions
        count = args.people - RESERVED - first
        post_env = dict(common, BENCH_FIRST=str(first), BENCH_COUNT=str(count), BENCH_THREADS=str(args.threads),
                        BENCH_INTERNAL_TENTHS=str(INTERNAL_TENTHS), BENCH_INTERNAL_BODY=INTERNAL_BODY,
                        BENCH_EXTERNAL_BODY=EXTERNAL_BODY, BENCH_ORIGIN=ORIGIN)

        def check_rows(r):
            added = marks.added_requests()
            r["note"] = "  (rows +%d)" % (added - r["good"])
            # Mail is delivered in the background: how much was still queued when wrk stopped, and
            # how long the pump took to drain it (the next run starts after that).
            queued, waiting = marks.mail_backlog()
            started = time.time()
            while marks.mail_backlog()[1] > 0 and time.time() - started < 120:
                time.sleep(0.2)
            left = marks.mail_backlog()[1]
            r["note"] += "  mail %d, %d queued at the end, %s" % (
                queued, waiting, "drained in %.1f s" % (time.time() - started) if left == 0 else "%d still queued after 120 s" % left)
            if r["requests"] + args.connections > count:
                raise BenchError("a run made %d posts but there are only %d people to post for, so some were "
                                 "replays; use more --people or a shorter --duration" % (r["requests"], count))
            if added < r["good"]:
                raise BenchError("wrk counted %d successful posts but only %d requests were stored" % (r["good"], added))

        def variant_measure(label, variant):
            stack.start_serve(db_path, variant)
            return measure(args, work, procs, label, "bench_handler_post.lua", stack.url + "/requests", post_env,
                           before_each=marks.reset, after_each=check_rows)
        log("POST /requests for %d different people (7 in 10 internal: %s, delivered at once; others: %s, "
            "pending approval)" % (count, INTERNAL_PACKAGE[0], EXTERNAL_PACKAGE[0]))
        main_post = measure(args, work, procs, "gatehouse POST (%s)" % variant_name(main_variant), "bench_handler_post.lua",
                            stack.url + "/requests", post_env, before_each=marks.reset, after_each=check_rows)
        results.append(("POST /requests (submission)", main_post))
        post_results.append((main_variant, main_post))
        runs = args.runs
        args.runs = args.variant_runs or runs
        for v in variants:
            if v == main_variant:
                continue
            post_results.append((v, variant_measure("gatehouse POST (%s)" % variant_name(v), v)))
        args.runs = runs
        marks.reset()
    stack.stop_serve()

    # (c) The C reference, same nginx, same synchronous setting.
    ref_db = os.path.join(work, "ref", "ref.sqlite")
    stack.start_ref(ref_bin, ref_db, args.ref_processes)
    ref_count = lambda: connect(ref_db).execute("SELECT count(*) FROM submissions").fetchone()[0]
    state = {}

    def ref_before():
        state["rows"] = ref_count()

    def ref_after(r):
        added = ref_count() - state["rows"]
        r["note"] = "  (rows +%d)" % (added - r["good"])
    ref = measure(args, work, procs, "C libfcgi+SQLite POST (%d proc)" % args.ref_processes, "bench_handler_ref.lua",
                  stack.url + "/ref/", {}, before_each=ref_before, after_each=ref_after)
    stack.stop()

    # Report.
    lines = ["", "bench-handler: wrk -t%d -c%d -d%ds through nginx; median of %d runs; %d people, %d past requests%s"
             % (args.threads, args.connections, args.duration, args.runs, args.people, args.requests,
                " (minimal snapshots)" if meta.get("synthetic") else ""),
             "%-44s %10s %9s %9s %7s %9s" % ("", "req/s", "p50 ms", "p99 ms", "errors", "foreign*")]
    for name, r in results + [("C libfcgi + SQLite reference, POST, FULL", ref)]:
        lines.append("%-44s %10.0f %9.2f %9.2f %7d %8.0f%%" % (name, r["rps"], r["p50"], r["p99"], r["errors"],
                                                              100 * r["foreign"]))
    if post_results:
        p = post_results[0][1]
        lines.append("gatehouse POST / reference: req/s %.2f (target >= 1), p50 %.2f, p99 %.2f; gatehouse POST p99 "
                     "%.1f ms (target < 20 ms)" % (p["rps"] / ref["rps"], p["p50"] / ref["p50"], p["p99"] / ref["p99"],
                                                    p["p99"]))
    else:
        lines.append("gatehouse POST: not measured (the handler has no POST /requests yet)")
    lines.append("history page p99 %.1f ms (target < 10 ms)" % results[0][1]["p99"])
    if len(post_results) > 1:
        lines.append("gatehouse POST by concurrency model (runs per variant: %d):" % (args.variant_runs or args.runs))
        for v, r in sorted(post_results, key=lambda x: -x[1]["rps"]):
            lines.append("  %-20s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d"
                         % (variant_name(v), r["rps"], r["p50"], r["p99"], r["errors"]))
        best = max(post_results, key=lambda x: x[1]["rps"])
        lines.append("  fastest: %s" % variant_name(best[0]))
    lines.append("* the largest share of the machine's CPU that other processes used during one run")
    text = "\n".join(lines)
    print(text, flush=True)
    with open(os.path.join(work, "results.txt"), "w") as f:
        f.write(text + "\n")
    bad = sum(r["errors"] for _, r in results) + ref["errors"] + sum(r["errors"] for _, r in post_results)
    return 0 if bad == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
