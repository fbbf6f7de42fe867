#!/usr/bin/env python3
"""`make bench-approvals`: the approval pages through nginx and `gatehouse sweep`, at issue 4's scale.

usage: bench_approvals.py --gatehouse BIN [--work var/bench-approvals] [--approvers 100]
                          [--per-approver 100] [--reminders 1000] [--assignments 1000000]
                          [--due-percent 1] [--runs 3] [--duration 10] [--post-duration 5]
                          [--quick] [--skip-web] [--skip-sweep] [--reseed]
                          [--baseline ../shared/bench-baseline]

1. A generated site, WORK/site: site/ plus APPROVERS managers and their staff in people.yaml
   and two packages, bench-lab-access and bench-lab-booking (one stage decided by the
   requestor's manager, 14 days, reminders at day 7 and 13, escalation to the second-level
   manager at day 10, justification required; the booking one has a custom schedule).
2. Capture: through nginx and `gatehouse serve`, one staff member submits each generated package
   and the example's internal package. Their rows give the policy snapshots, answers and grants
   the seeded rows copy, and check the bench's calendar arithmetic (deadline, next check)
   against the engine's.
3. Seeds, kept in WORK/seed/ while their parameters, the schema and site/ are unchanged:
   web: every person (signed in), one session per approver (cookie as in bench-handler), and
   APPROVERS x PER_APPROVER pending requests with their approver row, stage clock, deadline and
   next check; REMINDERS of them are past their day-7 reminder.
   sweep: the web seed plus ASSIGNMENTS assignments, each with its request (and, for the
   generated packages, the manager's approver row and decision) and grants: DUE-PERCENT % wait in
   'delivering' with their start come (scheduled starts due), as many again start later, one
   active internal package per staff member, the rest ended history.
4. wrk -t2 -c32 --latency --timeout 30s through nginx: GET /approvals/ (the approvers in turn), GET
   /approvals/<id>/ and POST /approvals/<id>/decide (approve) walking the (approver cookie,
   request id) pairs, so no request is decided twice; every POST run starts from a fresh copy
   of the web seed and counts 303 vs other. Then the C libfcgi reference (BASELINE/src/fcgi_app.c)
   behind the same nginx: GET hello and the SQLite INSERT POST at synchronous=FULL. Each page is
   also timed alone (5 requests one at a time on the idle server).
5. `gatehouse sweep --now SEED_TIME` on a fresh copy of the sweep seed: wall time, CPU and peak
   RSS (/usr/bin/time) and its summary; then once more straight after, which must find nothing.
6. Prints a table and writes WORK/results.txt. Every process it started is stopped at the end.
Reuses bench_handler.py's processes, nginx stack and seeding helpers (its wrk runner, with a
longer timeout); only the standard library is used. Exit status 2 when a run had errors.
"""
import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_handler as bh  # noqa: E402  (the shared pieces: Stack, wrk, measure, seeding helpers)

log, BenchError, connect, db_time, sha256_hex, cookie = bh.log, bh.BenchError, bh.connect, bh.db_time, bh.sha256_hex, bh.cookie
REPO, HERE, COOKIE_NAME, ORIGIN = bh.REPO, bh.HERE, bh.COOKIE_NAME, bh.ORIGIN

# Bump when the generated site or the seeded rows change shape: cached seeds are then remade.
SEED_FORMAT = 3
DOMAIN = "contoso.example"
ACCESS = ("bench-lab-access", "staff")     # the pending requests
BOOKING = ("bench-lab-booking", "staff")   # the scheduled starts
INTERNAL = bh.INTERNAL_PACKAGE             # internal-access-package: delivered at once, no approval
TIMEOUT_DAYS, REMINDER_DAY, ESCALATION_DAY = 14, 7, 10
GRANT = ("lab-portal", "Contributor")      # the one resource role of each generated package
APPROVE_BODY = "decision=approve&stage=1&justification=Approved+for+the+project%2C+as+discussed."
JUSTIFICATIONS = ["Booking the optics bench for the spring measurements.",
                  "Needed to run the calibration series with the new team.",
                  "Taking over the cryostat schedule from a colleague on leave.",
                  "Preparing the student practicals that start next month."]
FIRST = ["Ada", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kenji",
         "Lina", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tove", "Ugo", "Vera",
         "Wei", "Xenia", "Yusuf", "Zoé"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand"]

PACKAGE = """---
name: {name}
catalog: general
resources:
  - {{resource: {resource}, role: {role}}}
policies:
  - id: staff
    name: Lab staff
    requestors: {{scope: allMembers}}
    justification: required
    approval:
      stages:
        - approvers: [{{manager: true}}]
          fallback: [{{person: megan@contoso.example}}]
          timeoutDays: {timeout}
          justificationRequired: true
          escalation: {{afterDays: {escalation}, approvers: [{{secondLevelManager: true}}]}}
    questions:
      - id: project
        type: shortText
        required: true
        text: {{default: "Which project is it for?", fr: "Pour quel projet ?"}}
        maxLength: 100
      - id: level
        type: multipleChoice
        required: true
        text: {{default: "Which access level do you need?", fr: "De quel niveau d'accès avez-vous besoin ?"}}
        choices:
          - {{value: read, text: {{default: Read, fr: Lecture}}}}
          - {{value: write, text: {{default: Write, fr: Écriture}}}}
    lifecycle:
      expiration: {{afterDays: 180}}
      customSchedule: {custom}
      extension: {{allowed: true, requiresApproval: true}}
    notifications: {{requestor: true}}
---
Generated by Tests/bench/bench_approvals.py: {what}. Your manager decides within {timeout} days.
"""


def approver_email(j):
    return "mgr%03d@%s" % (j, DOMAIN)


def staff_email(i):
    return "s%05d@%s" % (i, DOMAIN)


def name_of(k):
    return "%s %s" % (FIRST[k % len(FIRST)], LAST[(k // len(FIRST)) % len(LAST)])


def request_body(package, policy, project, level="write"):
    return ("package=%s&policy=%s&language=en&justification=Needed+for+the+%s+project."
            "&answer.project=%s&answer.level=%s" % (package, policy, project, project, level))


def new_id(rng):
    return "%032x" % rng.getrandbits(128)


def parse_db_time(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


class Calendar:
    """The tenant calendar as TenantCalendar computes it: N days later at the same wall-clock time."""

    def __init__(self, site):
        m = re.search(r"(?m)^timeZone:\s*(\S+)", open(os.path.join(site, "tenant.yaml"), encoding="utf-8").read())
        self.zone = ZoneInfo(m.group(1) if m else "UTC")

    def add_days(self, t, days):
        local = t.astimezone(self.zone).replace(tzinfo=None) + timedelta(days=days)
        return local.replace(tzinfo=self.zone).astimezone(timezone.utc)

    def start_of_day(self, t):
        local = t.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        return local.replace(tzinfo=self.zone).astimezone(timezone.utc)


# MARK: The generated site

def generate_site(args, out):
    """site/ plus the managers and staff and the two bench packages; checked with `gatehouse check`."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(args.example_site, out)
    path = os.path.join(out, "people.yaml")
    text = open(path, encoding="utf-8").read()
    groups = re.search(r"(?m)^groups:", text)
    if not re.search(r"(?m)^people:", text) or not groups:
        raise BenchError("site/people.yaml: expected a `people:` list followed by `groups:`; cannot add the bench's people")
    second = "nestor@contoso.example" if "email: nestor@contoso.example" in text else None
    lines = ["  # bench-approvals: %d managers and %d staff\n" % (args.approvers, args.staff)]
    for j in range(args.approvers):
        lines.append("  - email: %s\n    name: %s\n" % (approver_email(j), name_of(7919 + j))
                     + ("    manager: %s\n" % second if second else ""))
    for i in range(args.staff):
        lines.append("  - email: %s\n    name: %s\n    manager: %s\n" % (staff_email(i), name_of(i), approver_email(i % args.approvers)))
    text = text[:groups.start()].rstrip("\n") + "\n" + "".join(lines) + "\n" + text[groups.start():]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    for (package, _), name, custom, what in ((ACCESS, "Lab instrument access", "false", "the pending requests"),
                                             (BOOKING, "Lab room booking", "true", "the scheduled starts")):
        with open(os.path.join(out, "packages", package + ".md"), "w", encoding="utf-8") as f:
            f.write(PACKAGE.format(name=name, resource=GRANT[0], role=GRANT[1], timeout=TIMEOUT_DAYS, escalation=ESCALATION_DAY, custom=custom, what=what))
    check = subprocess.run([args.gatehouse, "check", "--site", out], capture_output=True, text=True)
    if check.returncode != 0:
        raise BenchError("the generated site does not pass `gatehouse check`:\n%s%s" % (check.stdout[-2000:], check.stderr[-2000:]))


# MARK: Capture: the real handler writes one request of each kind

def capture(args, procs, work, public):
    """Submits the three packages through nginx and the handler; returns what the seeds copy."""
    path = os.path.join(work, "seed", "capture.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    prefix = secrets.token_hex(12)
    stack = bh.Stack(procs, args, work, public)
    stack.start_nginx()
    try:
        stack.start_serve(path, ("threads", 1))
        db = connect(path)
        now = datetime.now(timezone.utc)
        for i in range(3):
            db.execute("INSERT INTO person (email, display_name, is_external, first_sign_in_at, last_sign_in_at)"
                       " VALUES (?, ?, 0, ?, ?)", (staff_email(i), name_of(i), db_time(now), db_time(now)))
            db.execute("INSERT INTO session (id_hash, email, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                       (sha256_hex(cookie(prefix, i)), staff_email(i), db_time(now), db_time(now),
                        db_time(now + timedelta(days=1))))
        out = {}
        for i, (package, policy), body in ((0, ACCESS, request_body(ACCESS[0], ACCESS[1], "Optics")),
                                           (1, BOOKING, request_body(BOOKING[0], BOOKING[1], "Cryostat")),
                                           (2, INTERNAL, bh.INTERNAL_BODY)):
            status, headers, text = bh.http(stack.url + "/requests", data=body.encode(), headers={
                "Cookie": "%s=%s" % (COOKIE_NAME, cookie(prefix, i)), "Origin": ORIGIN,
                "Content-Type": "application/x-www-form-urlencoded"})
            row = db.execute(
                "SELECT id, policy_snapshot, answers, justification, state, stage_started_at, stage_deadline, next_check_at"
                " FROM request WHERE requestor_email = ? AND package_id = ?", (staff_email(i), package)).fetchone()
            if status != 303 or not row:
                raise BenchError("capture: POST /requests (%s) as %s answered %d (Location %s), expected 303 and a stored "
                                 "request; body starts: %s" % (package, staff_email(i), status, headers.get("Location"),
                                                               text[:300]))
            rid = row[0]
            grants = db.execute("SELECT g.resource_id, g.role FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id"
                                " WHERE a.request_id = ? ORDER BY g.id", (rid,)).fetchall()
            approvers = db.execute("SELECT email, role FROM approver WHERE request_id = ? ORDER BY rowid", (rid,)).fetchall()
            out[package] = {"snapshot": row[1], "answers": row[2], "justification": row[3], "state": row[4],
                            "started": row[5], "deadline": row[6], "next_check": row[7],
                            "grants": [list(g) for g in grants], "approvers": [list(a) for a in approvers]}
        db.close()
    finally:
        stack.stop()

    access = out[ACCESS[0]]
    if access["state"] != "pendingApproval" or access["approvers"] != [[approver_email(0), "primary"]]:
        raise BenchError("capture: the %s request is %s with approvers %s; expected pendingApproval with %s as primary "
                         "(the requestor's manager)" % (ACCESS[0], access["state"], access["approvers"], approver_email(0)))
    cal = Calendar(args.site)
    started = parse_db_time(access["started"])
    for label, stored, days in (("deadline", access["deadline"], TIMEOUT_DAYS), ("next check", access["next_check"], REMINDER_DAY)):
        mine = cal.add_days(started, days)
        if stored is None or abs((parse_db_time(stored) - mine).total_seconds()) > 0.002:
            raise BenchError("capture: the engine's %s is %s but the bench computes %s (started %s + %d days); the seeded "
                             "rows would disagree with the engine" % (label, stored, db_time(mine), access["started"], days))
    if out[INTERNAL[0]]["state"] != "delivered" or not out[INTERNAL[0]]["grants"]:
        raise BenchError("capture: the internal package request is %s with grants %s; expected delivered with grants"
                         % (out[INTERNAL[0]]["state"], out[INTERNAL[0]]["grants"]))
    for package in (ACCESS[0], BOOKING[0]):  # still pending: no grants yet
        out[package]["grants"] = [list(GRANT)]
    return out


# MARK: Seeds

def bulk(db):
    db.execute("PRAGMA journal_mode = DELETE")  # a bulk load needs no WAL; switched back after
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")


def seed_web(args, templates, path, seeded_at):
    """People, approver sessions and the pending requests; returns the cookie prefix."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    # The store creates the file and runs its migrations; nothing is due in an empty database.
    subprocess.run([args.gatehouse, "sweep", "--quiet", "--site", args.gen_site, "--db", path, "--now",
                    seeded_at.strftime("%Y-%m-%dT%H:%M:%SZ")], check=True)
    rng = random.Random(20261123)
    cal = Calendar(args.site)
    T = seeded_at
    prefix = secrets.token_hex(12)
    db = connect(path)
    bulk(db)
    db.execute("BEGIN")
    people = [(approver_email(j), name_of(7919 + j)) for j in range(args.approvers)]
    people += [(staff_email(i), name_of(i)) for i in range(args.staff)]
    rows = []
    for email, name in people:
        first = T - timedelta(days=rng.randint(30, 1000), seconds=rng.randint(0, 86399))
        rows.append((email, name, db_time(first), db_time(T - timedelta(hours=rng.randint(1, 200)))))
    db.executemany("INSERT INTO person (email, display_name, is_external, first_sign_in_at, last_sign_in_at)"
                   " VALUES (?, ?, 0, ?, ?)", rows)
    db.executemany(
        "INSERT INTO session (id_hash, email, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        ((sha256_hex(cookie(prefix, j)), approver_email(j), db_time(T), db_time(T), db_time(T + timedelta(days=7)))
         for j in range(args.approvers)))

    tpl = templates[ACCESS[0]]
    pending = args.approvers * args.per_approver
    reminded = set(rng.sample(range(pending), args.reminders))
    reqs, approvers = [], []
    for i in range(pending):
        if i in reminded:  # past the day-7 reminder, before the day-10 escalation
            offset = timedelta(days=REMINDER_DAY, hours=1) + timedelta(seconds=rng.randint(0, 2 * 86400 - 7200))
        else:
            offset = timedelta(minutes=10) + timedelta(seconds=rng.randint(0, int(6.8 * 86400)))
        started = T - offset
        rid = new_id(rng)
        justification = JUSTIFICATIONS[i % len(JUSTIFICATIONS)]
        reqs.append((rid, "form:%s:%s" % (staff_email(i), sha256_hex(rid)), staff_email(i), ACCESS[0], ACCESS[1],
                     tpl["snapshot"], justification, tpl["answers"], db_time(started), db_time(started),
                     db_time(started), db_time(cal.add_days(started, TIMEOUT_DAYS)),
                     db_time(cal.add_days(started, REMINDER_DAY))))
        approvers.append((rid, approver_email(i % args.approvers), db_time(started)))
    db.executemany(
        "INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,"
        " policy_snapshot, language, justification, answers, state, current_stage, escalated, created_at, updated_at,"
        " stage_started_at, stage_deadline, reminders_sent, next_check_at)"
        " VALUES (?, ?, 'add', 'user', ?, ?, ?, ?, 'en', ?, ?, 'pendingApproval', 1, 0, ?, ?, ?, ?, 0, ?)", reqs)
    db.executemany("INSERT INTO approver (request_id, stage, email, role, added_at) VALUES (?, 1, ?, 'primary', ?)",
                   approvers)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    return prefix


def seed_sweep(args, templates, web_path, path, seeded_at):
    """The web seed plus the assignments (with their requests, approvers, decisions and grants)."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    shutil.copyfile(web_path, path)
    rng = random.Random(20261124)
    cal = Calendar(args.site)
    T = seeded_at
    pending = args.approvers * args.per_approver
    due, future = args.due, min(args.due, pending)
    active = args.staff
    history = args.assignments - due - future - active
    db = connect(path)
    bulk(db)
    db.execute("BEGIN")
    today = cal.start_of_day(T)
    packages = (INTERNAL, ACCESS, BOOKING)
    lengths = {INTERNAL[0]: 365, ACCESS[0]: 180, BOOKING[0]: 180}

    def request_row(rid, email, package, policy, state, created, updated, start=None):
        tpl = templates[package]
        return (rid, "form:%s:%s" % (email, sha256_hex(rid)), email, package, policy, tpl["snapshot"],
                tpl["justification"], tpl["answers"], db_time(start) if start else None, state,
                db_time(created), db_time(updated))

    def flush(reqs, assigns, grants, approvers, decisions):
        db.executemany(
            "INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,"
            " policy_snapshot, language, justification, answers, requested_start, state, escalated, created_at, updated_at)"
            " VALUES (?, ?, 'add', 'user', ?, ?, ?, ?, 'en', ?, ?, ?, ?, 0, ?, ?)", reqs)
        db.executemany(
            "INSERT INTO assignment (id, request_id, email, package_id, policy_id, state, starts_at, ends_at, ended_at,"
            " end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", assigns)
        db.executemany("INSERT INTO resource_grant (assignment_id, resource_id, role, state, updated_at)"
                       " VALUES (?, ?, ?, ?, ?)", grants)
        db.executemany("INSERT INTO approver (request_id, stage, email, role, added_at) VALUES (?, 1, ?, 'primary', ?)",
                       approvers)
        db.executemany("INSERT INTO decision (request_id, stage, approver_email, decision, justification, decided_at)"
                       " VALUES (?, 1, ?, 'approve', 'Approved for the project.', ?)", decisions)
        for batch in (reqs, assigns, grants, approvers, decisions):
            batch.clear()

    reqs, assigns, grants, approvers, decisions = [], [], [], [], []
    t0 = time.time()
    for n in range(args.assignments):
        if n < due:  # scheduled start come: waiting in 'delivering' for the sweep
            i = pending + n
            package, policy = BOOKING
            start = today if n % 20 else cal.add_days(today, -1)  # a few from yesterday (a sweep was missed)
            approved = start - timedelta(days=rng.randint(2, 20), seconds=rng.randint(0, 86399))
            state, rstate, gstate, ended, reason = "delivering", "scheduled", "pending", None, None
            requested = start
        elif n < due + future:  # scheduled, starting later
            i = n - due
            package, policy = BOOKING
            start = cal.add_days(today, rng.randint(1, 30))
            approved = T - timedelta(days=rng.randint(0, 10), seconds=rng.randint(0, 86399))
            state, rstate, gstate, ended, reason = "delivering", "scheduled", "pending", None, None
            requested = start
        elif n < due + future + active:  # the internal package, active
            i = n - due - future
            package, policy = INTERNAL
            start = T - timedelta(days=rng.randint(1, 300), seconds=rng.randint(0, 86399))
            approved = start
            state, rstate, gstate, ended, reason = "delivered", "delivered", "active", None, None
            requested = None
        else:  # ended history
            i = rng.randrange(args.staff)
            package, policy = packages[rng.randrange(3)]
            start = T - timedelta(days=rng.randint(400, 1500), seconds=rng.randint(0, 86399))
            approved = start
            state, rstate, gstate, reason = "expired", "delivered", "revoked", "ended on schedule"
            requested = None
        ends = cal.add_days(start, lengths[package])
        if state == "expired":
            ended = ends
        email = staff_email(i)
        rid, aid = new_id(rng), new_id(rng)
        submitted = approved - timedelta(hours=rng.randint(1, 72)) if package != INTERNAL[0] else approved
        reqs.append(request_row(rid, email, package, policy, rstate, submitted, approved, requested))
        assigns.append((aid, rid, email, package, policy, state, db_time(start), db_time(ends),
                        db_time(ended) if ended else None, reason))
        for resource, role in templates[package]["grants"]:
            grants.append((aid, resource, role, gstate, db_time(ended or approved)))
        if package != INTERNAL[0]:
            approvers.append((rid, approver_email(i % args.approvers), db_time(submitted)))
            decisions.append((rid, approver_email(i % args.approvers), db_time(approved)))
        if len(reqs) >= 50_000:
            flush(reqs, assigns, grants, approvers, decisions)
            log("  %d of %d assignments (%.0f s)" % (n + 1, args.assignments, time.time() - t0))
    flush(reqs, assigns, grants, approvers, decisions)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("ANALYZE")
    db.close()
    return {"due": due, "future": future, "active": active, "history": history}


def seed_key(args):
    return {"format": SEED_FORMAT, "approvers": args.approvers, "per_approver": args.per_approver,
            "reminders": args.reminders, "staff": args.staff, "schema": bh.schema_hash(),
            "site": bh.site_hash(args.example_site)}


def seeds(args, procs, work, public, need_sweep):
    """(web seed path, sweep seed path or None, metadata): made or reused from WORK/seed/."""
    folder = os.path.join(work, "seed")
    os.makedirs(folder, exist_ok=True)
    key = seed_key(args)
    tag = "%dx%d" % (args.approvers, args.per_approver)
    web = os.path.join(folder, "web-%s.sqlite" % tag)
    sweep = os.path.join(folder, "sweep-%s-%d.sqlite" % (tag, args.assignments))
    meta_path = web + ".json"
    meta = None
    if not args.reseed and os.path.exists(web) and os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        if meta.get("key") != key:
            meta = None
    if meta is None:
        log("Seeding %s: %d approvers x %d pending requests (%d past their reminder), %d people"
            % (os.path.relpath(web), args.approvers, args.per_approver, args.reminders, args.approvers + args.staff))
        t0 = time.time()
        templates = capture(args, procs, work, public)
        seeded_at = datetime.now(timezone.utc).replace(microsecond=0)
        prefix = seed_web(args, templates, web, seeded_at)
        meta = {"key": key, "prefix": prefix, "seeded_at": db_time(seeded_at), "templates": templates, "sweep": {}}
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        for old in os.listdir(folder):  # sweep seeds made from an earlier web seed are stale
            if old.startswith("sweep-%s-" % tag):
                os.remove(os.path.join(folder, old))
        log("  done in %.1f s" % (time.time() - t0))
    else:
        log("Reusing the seeded database %s (--reseed makes a new one)" % os.path.relpath(web))
    if not need_sweep:
        return web, None, meta
    counts = meta["sweep"].get(str(args.assignments))
    if counts is None or not os.path.exists(sweep) or counts.get("due") != args.due:
        log("Seeding %s: the web seed plus %d assignments (%d due)" % (os.path.relpath(sweep), args.assignments, args.due))
        t0 = time.time()
        counts = seed_sweep(args, meta["templates"], web, sweep, parse_db_time(meta["seeded_at"]))
        meta["sweep"][str(args.assignments)] = counts
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        log("  done in %.1f s (%.0f MB)" % (time.time() - t0, os.path.getsize(sweep) / 1e6))
    else:
        log("Reusing the seeded database %s" % os.path.relpath(sweep))
    return web, sweep, meta


# MARK: wrk (bench_handler's runner, with a longer timeout)

WRK_TIMEOUT = 30  # seconds: wrk's default (2 s) would drop the slowest pages from the latency figures


def wrk(args, work, script, url, env, duration, procs=None):
    path = os.path.join(work, "lua", script)
    with open(path, "w") as f:
        f.write(open(os.path.join(HERE, script)).read() + "\n"
                + open(os.path.join(HERE, "bench_handler_report.lua")).read())
    cpu = bh.ForeignCPU() if procs else None
    out = subprocess.run(["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % duration, "--latency",
                          "--timeout", "%ds" % WRK_TIMEOUT, "-s", path, url],
                         env=dict(os.environ, **env), capture_output=True, text=True)
    with open(os.path.join(work, "logs", "wrk.log"), "a") as f:
        f.write("$ wrk %s %s (%ds)\n%s%s\n" % (script, url, duration, out.stdout, out.stderr))
    m = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    time.sleep(0.5)  # requests in flight when wrk stopped finish before rows are counted or reset
    if out.returncode != 0 or not m:
        raise BenchError("wrk failed (%d): %s %s" % (out.returncode, out.stdout[-500:], out.stderr[-500:]))
    r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["errors"] = r["bad"] + r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
    r["foreign"] = cpu.share() if cpu else 0.0
    return r


def measure(args, work, procs, label, script, url, env, before_each=None, after_each=None, settle=None):
    """As bench_handler.measure: a 2 s warm-up, then RUNS timed runs; the medians of req/s, p50 and p99.
    `settle` waits until the server has worked off what the previous run left queued."""
    if before_each:
        before_each()
    wrk(args, work, script, url, env, min(2, args.duration))
    runs = []
    for n in range(args.runs):
        if before_each:
            before_each()
        if settle:
            settle()
        r = wrk(args, work, script, url, env, args.duration, procs)
        if after_each:
            after_each(r)
        runs.append(r)
        log("  %-34s run %d: %8.0f req/s  p50 %7.2f ms  p99 %8.2f ms  errors %d%s  foreign CPU %.0f%%" % (
            label, n + 1, r["rps"], r["p50_us"] / 1000, r["p99_us"] / 1000, r["errors"], r.get("note", ""),
            100 * r["foreign"]))
    return {"label": label, "runs": runs,
            "rps": statistics.median(r["rps"] for r in runs),
            "p50": statistics.median(r["p50_us"] for r in runs) / 1000,
            "p99": statistics.median(r["p99_us"] for r in runs) / 1000,
            "errors": sum(r["errors"] for r in runs), "foreign": max(r["foreign"] for r in runs)}


def alone(url, headers, n=5):
    """The median time of N sequential requests on an idle server, in ms (the page's own cost)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        status = bh.http(url, headers=headers)[0]
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise BenchError("GET %s answered %d while timing it alone" % (url, status))
    return statistics.median(times)


# MARK: The web runs

def pairs(db_path, approvers):
    """(approver index, request id, requestor email) of every pending request, interleaving the approvers."""
    db = connect(db_path)
    rows = db.execute("SELECT a.email, r.id, r.requestor_email FROM approver a JOIN request r ON r.id = a.request_id"
                      " WHERE r.state = 'pendingApproval' ORDER BY r.created_at, r.id").fetchall()
    db.close()
    by = {}
    for email, rid, requestor in rows:
        by.setdefault(int(email[3:6]), []).append((rid, requestor))
    out = []
    for k in range(max(len(v) for v in by.values())):
        for j in range(approvers):
            if k < len(by.get(j, [])):
                out.append((j,) + by[j][k])
    return out


def web(args, work, procs, public, web_seed, meta, results):
    prefix = meta["prefix"]
    db_path = os.path.join(work, "gatehouse.sqlite")
    bh.fresh_copy(web_seed, db_path)
    pending = pairs(db_path, args.approvers)
    pairs_path = os.path.join(work, "lua", "pairs.txt")
    with open(pairs_path, "w") as f:
        for j, rid, _ in pending:
            f.write("%s %s\n" % (cookie(prefix, j), rid))

    ref_bin = os.path.join(work, "ref", "fcgi_app")
    os.makedirs(os.path.dirname(ref_bin), exist_ok=True)
    src = os.path.join(args.baseline, "src", "fcgi_app.c")
    if not os.path.exists(src):
        raise BenchError("the C reference %s is missing (--baseline)" % src)
    subprocess.run(["gcc", "-O2", "-Wall", "-o", ref_bin, src, "-lfcgi", "-lsqlite3"], check=True)

    stack = bh.Stack(procs, args, work, public)
    stack.start_nginx()
    variant = ("threads", args.workers)
    stack.start_serve(db_path, variant)
    common = {"BENCH_COOKIE_NAME": COOKIE_NAME, "BENCH_COOKIE_PREFIX": prefix, "BENCH_PAIRS": pairs_path,
              "BENCH_THREADS": str(args.threads), "BENCH_ORIGIN": ORIGIN}

    def get(path, j):
        return bh.http(stack.url + path, headers={"Cookie": "%s=%s" % (COOKIE_NAME, cookie(prefix, j))})

    def settle(limit=120):
        """Pages slower than a run leave requests queued in the handler after wrk stops: wait for
        a cheap handler page (the sign-in redirect) to come back quickly again."""
        deadline = time.time() + limit
        while time.time() < deadline:
            t0 = time.perf_counter()
            bh.http(stack.url + "/approvals/")
            if time.perf_counter() - t0 < 0.05:
                return
            time.sleep(0.2)
        log("  (the handler was still busy %d s after the run)" % limit)

    # Sanity: the pages render the seeded data.
    status, _, body = get("/approvals/", 0)
    listed = set(re.findall(r'href="/approvals/([0-9a-f]{32})/"', body))
    mine = {rid for j, rid, _ in pending if j == 0}
    if status != 200 or listed != mine:
        raise BenchError("GET /approvals/ as %s answered %d listing %d requests; expected 200 with their %d pending ones"
                         % (approver_email(0), status, len(listed), len(mine)))
    first = pending[0]
    status, _, body = get("/approvals/%s/" % first[1], first[0])
    requestor = name_of(int(first[2][1:6]))
    if status != 200 or ('action="/approvals/%s/decide"' % first[1]) not in body or requestor not in body:
        raise BenchError("GET /approvals/%s/ as %s answered %d; expected 200 with the requestor (%s) and the decision "
                         "form" % (first[1], approver_email(first[0]), status, requestor))
    approver_cookie = lambda j: {"Cookie": "%s=%s" % (COOKIE_NAME, cookie(prefix, j))}  # noqa: E731
    solo = {"list": alone(stack.url + "/approvals/", approver_cookie(1)),
            "detail": alone(stack.url + "/approvals/%s/" % pending[1][1], approver_cookie(pending[1][0]))}
    log("GET /approvals/ as %d approvers (%d pending requests each), gatehouse serve --workers %d; one at a time on "
        "an idle server: %.1f ms" % (args.approvers, args.per_approver, args.workers, solo["list"]))
    results["list"] = measure(args, work, procs, "gatehouse GET /approvals/", "bench_handler_get.lua",
                              stack.url + "/approvals/",
                              dict(common, BENCH_PATH="/approvals/", BENCH_FIRST="0", BENCH_COUNT=str(args.approvers)),
                              settle=settle)
    settle()
    log("GET /approvals/<id>/ over the %d (approver, request) pairs; one at a time: %.1f ms" % (len(pending), solo["detail"]))
    results["detail"] = measure(args, work, procs, "gatehouse GET /approvals/<id>/", "bench_approvals_detail.lua",
                                stack.url + "/approvals/", common)

    # The approve posts: each run on a fresh copy of the seed, so each decides requests still pending.
    def restore():
        stack.stop_serve()
        bh.fresh_copy(web_seed, db_path)
        stack.start_serve(db_path, variant)

    def check(r):
        db = connect(db_path)
        decided = db.execute("SELECT count(*) FROM decision").fetchone()[0]
        delivered = db.execute("SELECT count(*) FROM assignment WHERE state = 'delivered'").fetchone()[0]
        db.close()
        r["note"] = "  (303: %d, other: %d; decisions +%d)" % (r["good"], r["bad"], decided - r["good"])
        if decided < r["good"] or delivered != decided:
            raise BenchError("wrk counted %d approvals (303) but %d decisions and %d delivered assignments were stored"
                             % (r["good"], decided, delivered))
        if r["requests"] + args.connections > len(pending):
            raise BenchError("a run made %d posts for %d pending requests, so some decided a request twice; use a "
                             "shorter --post-duration or more --per-approver" % (r["requests"], len(pending)))

    restore()
    status, headers, body = bh.http(stack.url + "/approvals/%s/decide" % first[1], data=APPROVE_BODY.encode(), headers={
        "Cookie": "%s=%s" % (COOKIE_NAME, cookie(prefix, first[0])), "Origin": ORIGIN,
        "Content-Type": "application/x-www-form-urlencoded"})
    if status != 303 or headers.get("Location") != "/approvals/%s/" % first[1]:
        raise BenchError("POST /approvals/%s/decide answered %d (Location %s), expected 303 to the request: %s"
                         % (first[1], status, headers.get("Location"), body[:300]))
    log("POST /approvals/<id>/decide (approve, delivered at once): each post a different pending request, "
        "each run from a fresh copy")
    duration = args.duration
    args.duration = args.post_duration
    results["decide"] = measure(args, work, procs, "gatehouse POST decide", "bench_approvals_decide.lua",
                                stack.url + "/approvals/", dict(common, BENCH_BODY=APPROVE_BODY),
                                before_each=restore, after_each=check)
    args.duration = duration
    stack.stop_serve()

    ref_db = os.path.join(work, "ref", "ref.sqlite")
    stack.start_ref(ref_bin, ref_db, args.ref_processes)
    log("The C libfcgi + SQLite reference (%d process), same nginx" % args.ref_processes)
    results["ref_get"] = measure(args, work, procs, "C libfcgi GET hello", "bench_approvals_ref_get.lua",
                                 stack.url + "/ref/", {})
    results["ref_post"] = measure(args, work, procs, "C libfcgi+SQLite POST, FULL", "bench_handler_ref.lua",
                                  stack.url + "/ref/", {})
    stack.stop()
    results["list"]["alone"], results["detail"]["alone"] = solo["list"], solo["detail"]
    results["decide"]["good"] = sum(r["good"] for r in results["decide"]["runs"])
    results["decide"]["bad"] = sum(r["bad"] for r in results["decide"]["runs"])


# MARK: The sweep

SUMMARY = re.compile(r"checked (\d+) pending requests?: (\d+) expired, (\d+) escalated, (\d+) reminded; "
                     r"(\d+) scheduled assignments? started")


def run_sweep(args, work, procs, db_path, at, label):
    """One `gatehouse sweep`: wall time, CPU, peak RSS and its summary counts.

    Under /usr/bin/time when installed: ru_maxrss of a child this (large) Python process forks
    also counts the memory it shared before exec."""
    logfile = os.path.join(work, "logs", "sweep.log")
    with open(logfile, "ab") as f:
        f.write(("$ gatehouse sweep --now %s (%s)\n" % (at, label)).encode())
    out_path = os.path.join(work, "run", "sweep.out")
    time_path = os.path.join(work, "run", "sweep.time")
    argv = [args.gatehouse, "sweep", "--site", args.gen_site, "--db", db_path, "--now", at]
    timed = os.path.exists("/usr/bin/time")
    if timed:
        argv = ["/usr/bin/time", "-o", time_path, "-f", "%M %U %S"] + argv
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        p = procs.popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    procs.popens.remove(p)
    text = open(out_path, encoding="utf-8", errors="replace").read()
    with open(logfile, "a") as f:
        f.write(text)
    m = SUMMARY.search(text)
    if p.returncode != 0 or not m:
        raise BenchError("gatehouse sweep (%s) exited with %d: %s" % (label, p.returncode, text[-800:]))
    rss_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    if timed:
        fields = open(time_path).read().split()
        rss_kb, cpu = int(fields[-3]), float(fields[-2]) + float(fields[-1])
    counts = dict(zip(("checked", "expired", "escalated", "reminded", "started"), (int(x) for x in m.groups())))
    r = {"wall": wall, "rss_mb": rss_kb / 1024, "cpu": cpu, "counts": counts, "summary": m.group(0)}
    log("  %-13s %6.2f s wall, %5.2f s CPU, peak RSS %4.0f MB: %s" % (label, wall, r["cpu"], r["rss_mb"], m.group(0)))
    return r


def sweep(args, work, procs, sweep_seed, meta, results):
    db_path = os.path.join(work, "sweep.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    t0 = time.time()
    shutil.copyfile(sweep_seed, db_path)
    log("gatehouse sweep over %d assignments (%d due) and %d pending requests (%d past their reminder); copy %.1f s"
        % (args.assignments, args.due, args.approvers * args.per_approver, args.reminders, time.time() - t0))
    at = parse_db_time(meta["seeded_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = run_sweep(args, work, procs, db_path, at, "first run")
    second = run_sweep(args, work, procs, db_path, at, "second run")
    want = {"checked": args.reminders, "expired": 0, "escalated": 0, "reminded": args.reminders, "started": args.due}
    problems = []
    if first["counts"] != want:
        problems.append("the first sweep did %s, expected %s" % (first["counts"], want))
    if any(second["counts"].values()):
        problems.append("the second sweep did %s, expected nothing" % second["counts"])
    db = connect(db_path)
    left = db.execute("SELECT count(*) FROM assignment WHERE state = 'delivering' AND starts_at <= ?",
                      (meta["seeded_at"],)).fetchone()[0]
    db.close()
    if left:
        problems.append("%d due assignments are still waiting after the sweeps" % left)
    results["sweep"] = {"first": first, "second": second, "problems": problems}
    for p in problems:
        log("  PROBLEM: " + p)
    os.remove(db_path)  # a GB-sized copy; the seed stays
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)


# MARK: Report

def report(args, results):
    lines = ["", "bench-approvals: %d approvers x %d pending requests; wrk -t%d -c%d through nginx, %d s runs (POST %d s), "
             "median of %d; gatehouse serve --workers %d"
             % (args.approvers, args.per_approver, args.threads, args.connections, args.duration,
                args.post_duration, args.runs, args.workers)]
    if "list" in results:
        lines.append("%-36s %8s %9s %9s %8s %9s %9s  %s" % ("", "req/s", "p50 ms", "p99 ms", "errors", "foreign*",
                                                             "alone ms", "vs C: req/s, p50, p99"))
        rows = [("GET /approvals/ (%d pending each)" % args.per_approver, results["list"], results["ref_get"]),
                ("GET /approvals/<id>/", results["detail"], results["ref_get"]),
                ("POST /approvals/<id>/decide", results["decide"], results["ref_post"]),
                ("C libfcgi hello GET (%d proc)" % args.ref_processes, results["ref_get"], None),
                ("C libfcgi+SQLite POST, FULL", results["ref_post"], None)]
        for name, r, ref in rows:
            timed = r["p50"] > 0  # wrk records no latency for a request slower than its timeout
            vs = ("%5.3fx %6.1fx %6.1fx" % (r["rps"] / ref["rps"], r["p50"] / ref["p50"], r["p99"] / ref["p99"])
                  if ref and timed else "%5.3fx" % (r["rps"] / ref["rps"]) if ref else "")
            lines.append("%-36s %8.1f %9s %9s %8d %8.0f%% %9s  %s" % (
                name, r["rps"], "%.2f" % r["p50"] if timed else "> %d s" % WRK_TIMEOUT,
                "%.2f" % r["p99"] if timed else "> %d s" % WRK_TIMEOUT, r["errors"], 100 * r["foreign"],
                "%.1f" % r["alone"] if "alone" in r else "", vs))
        d = results["decide"]
        lines.append("approve posts over all runs: %d answered 303, %d other" % (d["good"], d["bad"]))
    if "sweep" in results:
        s = results["sweep"]
        lines.append("gatehouse sweep, %d assignments (%d due = %.1f %%) + %d pending (%d due for a reminder):"
                     % (args.assignments, args.due, 100 * args.due / args.assignments,
                        args.approvers * args.per_approver, args.reminders))
        for label in ("first", "second"):
            r = s[label]
            lines.append("  %-6s run %7.2f s wall %6.2f s CPU  peak RSS %5.0f MB  %s"
                         % (label, r["wall"], r["cpu"], r["rss_mb"], r["summary"]))
        for p in s["problems"]:
            lines.append("  PROBLEM: " + p)
    if "list" in results:
        lines.append("* the largest share of the machine's CPU that other processes used during one run; alone: the "
                     "median of 5 requests one at a time on the idle server")
    return "\n".join(lines)


# MARK: Main

FULL = {"approvers": 100, "per_approver": 100, "reminders": 1000, "assignments": 1_000_000, "due_percent": 1.0,
        "runs": 3, "duration": 10, "post_duration": 5}
QUICK = {"approvers": 10, "per_approver": 200, "reminders": 20, "assignments": 20_000, "due_percent": 1.0,
         "runs": 1, "duration": 3, "post_duration": 2}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", required=True, help="the gatehouse binary (a release build)")
    ap.add_argument("--work", default="var/bench-approvals")
    ap.add_argument("--site", default="site", help="the example site the generated one extends")
    ap.add_argument("--templates", default="templates")
    ap.add_argument("--approvers", type=int, help="approvers (managers); default 100")
    ap.add_argument("--per-approver", type=int, help="pending requests per approver; default 100")
    ap.add_argument("--reminders", type=int, help="pending requests past their day-7 reminder; default 1,000")
    ap.add_argument("--assignments", type=int, help="assignments in the sweep's database; default 1,000,000")
    ap.add_argument("--due-percent", type=float, help="share of the assignments whose scheduled start came; default 1")
    ap.add_argument("--runs", type=int, help="timed runs per measurement (the median is shown); default 3")
    ap.add_argument("--duration", type=int, help="seconds per timed run; default 10")
    ap.add_argument("--post-duration", type=int,
                    help="seconds per timed POST run, short enough that no request is decided twice; default 5")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4, help="gatehouse serve worker threads")
    ap.add_argument("--ref-processes", type=int, default=1, help="C reference processes")
    ap.add_argument("--baseline", default="../shared/bench-baseline")
    ap.add_argument("--quick", action="store_true",
                    help="a small try: 10 approvers x 200, 20 reminders, 20,000 assignments, 1 run of 3 s (POST 2 s); "
                         "options given explicitly still count")
    ap.add_argument("--skip-web", action="store_true", help="only the sweep")
    ap.add_argument("--skip-sweep", action="store_true", help="only the wrk runs")
    ap.add_argument("--reseed", action="store_true", help="seed new databases even if matching ones are kept")
    args = ap.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    pending = args.approvers * args.per_approver
    args.due = int(round(args.assignments * args.due_percent / 100))
    args.staff = pending + args.due
    if not 1 <= args.approvers <= 1000 or args.per_approver < 1:
        raise SystemExit("--approvers must be 1 to 1000 and --per-approver at least 1")
    if not 0 <= args.reminders <= pending:
        raise SystemExit("--reminders must be between 0 and the pending requests (%d)" % pending)
    if args.assignments < args.due + min(args.due, pending) + args.staff:
        raise SystemExit("--assignments must be at least %d (due, later starts, one active per staff member)"
                         % (args.due + min(args.due, pending) + args.staff))
    if args.runs < 1 or args.duration < 1 or args.post_duration < 1:
        raise SystemExit("--runs, --duration and --post-duration must be at least 1")
    for tool in ("wrk", "spawn-fcgi", "gcc"):
        if not args.skip_web and not shutil.which(tool):
            raise SystemExit("%s is not installed (make bench-approvals installs it)" % tool)

    args.gatehouse = os.path.abspath(args.gatehouse)
    args.site, args.templates = os.path.abspath(args.site), os.path.abspath(args.templates)
    args.example_site = args.site
    work = os.path.abspath(args.work)
    for sub in ("logs", "run", "mail", "lua", "seed"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    procs = bh.Processes()
    try:  # spawn-fcgi's children are reparented to us instead of init, so we can reap them
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run(args, work, procs)
    except BenchError as e:
        print("bench-approvals: %s (logs in %s/logs/)" % (e, os.path.relpath(work)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench-approvals: interrupted", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        shutil.rmtree(os.path.join(work, "mail"), ignore_errors=True)


def run(args, work, procs):
    started = time.time()
    log("%s, load average %s" % (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                 " ".join(open("/proc/loadavg").read().split()[:3])))
    args.gen_site = os.path.join(work, "site")
    generate_site(args, args.gen_site)
    public = os.path.join(work, "public")
    shutil.rmtree(public, ignore_errors=True)
    subprocess.run([args.gatehouse, "build", "--site", args.gen_site, "--templates", args.templates, "--out", public],
                   check=True, stdout=subprocess.DEVNULL)
    # bench_handler's Stack serves args.site: the generated site, from here on.
    args.site = args.gen_site
    web_seed, sweep_seed, meta = seeds(args, procs, work, public, need_sweep=not args.skip_sweep)
    results = {}
    if not args.skip_web:
        web(args, work, procs, public, web_seed, meta, results)
    if not args.skip_sweep:
        sweep(args, work, procs, sweep_seed, meta, results)
    text = report(args, results) + "\n(%.0f s in all)" % (time.time() - started)
    print(text, flush=True)
    with open(os.path.join(work, "results.txt"), "w") as f:
        f.write(text + "\n")
    bad = sum(results[k]["errors"] for k in ("list", "detail", "decide", "ref_get", "ref_post") if k in results)
    bad += len(results.get("sweep", {}).get("problems", []))
    return 0 if bad == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
