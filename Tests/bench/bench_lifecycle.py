#!/usr/bin/env python3
"""`make bench-lifecycle`: `gatehouse sweep` ending and reminding assignments, at issue 5's scale.

usage: bench_lifecycle.py --gatehouse BIN [--work var/bench-lifecycle] [--site site]
                          [--assignments 1000000] [--expiring 10000] [--reminders 10000]
                          [--guests 1000] [--removals 500] [--people 200000] [--guest-people 5000]
                          [--quick] [--analyze] [--reseed]

1. Capture: `gatehouse assign` (as a tenant admin, on a scratch database) gives one internal-access-package
   assignment, whose policy snapshot, grants and lifecycle columns the seed copies, and whose end
   and next check must match the bench's calendar arithmetic; and one pending external-access-package
   request of an Azureblog guest, for the guests' snapshot.
2. The seed, kept in WORK/seed/ while its parameters, the schema and site/ are unchanged: PEOPLE
   members (s000000@contoso.example, …) and GUEST_PEOPLE governed guests of Azureblog (g00000@
   azureblog.example, signed in, one session each), and ASSIGNMENTS assignments, each with its request
   (a guest's with Adele's approver row and decision) and grants, such that at the seed's instant:
   - EXPIRING reach their end (ended in the last hour, grants active, reminders all sent); GUESTS of them
     are guests' last assignment (external-access-package), so the guest lifecycle blocks them and plans
     their removal;
   - REMINDERS of the internal package (extension allowed) are due an extension reminder: half the
     14-day one, half the 1-day one;
   - REMOVALS guests lost their last assignment removeAfterDays ago (blocked) and are due for removal;
   - every other member holds one internal-access-package assignment and every other guest one
     external-access-package assignment, with next_check_at and reminders_sent as the engine plans
     them (nothing due); the rest is ended history.
   Not ANALYZEd: the store never is, so the planner sees what it sees in a real database.
3. `gatehouse sweep --now SEED_TIME` on a fresh copy (--analyze: ANALYZE the copy first): wall time,
   CPU and peak RSS (/usr/bin/time), its summary (must be exactly the due work above), the database
   size before and after; then once more at the same instant, which must find nothing; then SQL checks
   of what the first one wrote (ended assignments, revoked grants, remove requests, outbox, audit,
   guests, sessions).
4. Prints a table and writes WORK/results.txt. Exit status 2 when a check failed.
The example site has no command connector, so no connector events are sent. Reuses bench_handler.py's
and bench_approvals.py's helpers; only the standard library is used.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_handler as bh  # noqa: E402  (processes, database helpers)
import bench_approvals as ba  # noqa: E402  (the tenant calendar, ids, names, bulk loading)

log, BenchError, connect, db_time, sha256_hex = bh.log, bh.BenchError, bh.connect, bh.db_time, bh.sha256_hex
Calendar, parse_db_time, new_id, name_of = ba.Calendar, ba.parse_db_time, ba.new_id, ba.name_of

# Bump when the seeded rows change shape: cached seeds are then remade.
SEED_FORMAT = 2
DOMAIN = "contoso.example"
GUEST_DOMAIN = "azureblog.example"
INTERNAL = ("internal-access-package", "members")   # 365 days, extension allowed without approval
GUEST = ("external-access-package", "azureblog")    # 180 days, no extension, Adele approves
LENGTHS = {INTERNAL[0]: 365, GUEST[0]: 180}
REMINDER_DAYS = [14, 1]                             # AccessLifecycle.reminderDays
ENDED = "its end date was reached"                  # Lifecycle.advance's reason
GUEST_APPROVER = "adele@contoso.example"


def member_email(i):
    return "s%06d@%s" % (i, DOMAIN)


def guest_email(k):
    return "g%05d@%s" % (k, GUEST_DOMAIN)


# MARK: The engine's lifecycle arithmetic (Governance/AccessLifecycle.swift), to seed consistent rows

def reminders(cal, start, end):
    return [r for r in (cal.add_days(end, -d) for d in REMINDER_DAYS) if r > start]


def next_check(cal, start, end, sent, apply):
    if not apply:
        return end
    pending = reminders(cal, start, end)[sent:]
    return min(pending[0], end) if pending else end


def due(cal, now, start, end, sent, apply):
    """'end', ('reminder', days left, sent after) or None, as AccessLifecycle.due."""
    if now >= end:
        return "end"
    if not apply:
        return None
    instants = reminders(cal, start, end)
    count = sum(1 for r in instants if r <= now)
    if count <= sent:
        return None
    return ("reminder", REMINDER_DAYS[-len(instants):][count - 1], count)


# MARK: Capture: the engine assigns one of each kind

def tenant_admin(site):
    m = re.search(r"(?m)^admins:\s*\[\s*([^,\]\s]+)", open(os.path.join(site, "tenant.yaml"), encoding="utf-8").read())
    if not m:
        raise BenchError("%s/tenant.yaml: no `admins: [...]`; the capture assigns as a tenant admin" % site)
    return m.group(1)


def package_grants(site, package):
    text = open(os.path.join(site, "packages", package + ".md"), encoding="utf-8").read()
    grants = re.findall(r"\{\s*resource:\s*([\w.-]+)\s*,\s*role:\s*([^}]+?)\s*\}", text)
    if not grants:
        raise BenchError("site/packages/%s.md: no `{resource: …, role: …}` found" % package)
    return [list(g) for g in grants]


def capture(args, work, cal):
    path = os.path.join(work, "seed", "capture.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    subprocess.run([args.gatehouse, "sweep", "--quiet", "--site", args.site, "--db", path], check=True)
    people = re.findall(r"(?m)^\s*-\s*email:\s*(\S+@%s)" % re.escape(DOMAIN), open(os.path.join(args.site, "people.yaml"),
                                                                                  encoding="utf-8").read())
    admin = tenant_admin(args.site)
    member = next((p for p in people if p != admin), None)
    if member is None:
        raise BenchError("site/people.yaml: the capture needs a member besides the admin %s" % admin)
    guest = "capture@" + GUEST_DOMAIN
    db = connect(path)
    now = datetime.now(timezone.utc)
    db.execute("INSERT INTO person (email, display_name, is_external, is_governed_guest, governed_guest_since,"
               " first_sign_in_at, last_sign_in_at) VALUES (?, 'Capture Guest', 1, 1, ?, ?, ?)",
               (guest, db_time(now), db_time(now), db_time(now)))
    db.close()
    out = {}
    for (package, policy), person in ((INTERNAL, member), (GUEST, guest)):
        argv = [args.gatehouse, "assign", "--site", args.site, "--db", path, "--as", admin, "--person", person,
                "--package", package, "--policy", policy, "--justification", "Working on the lab documentation."]
        run = subprocess.run(argv, capture_output=True, text=True)
        db = connect(path)
        row = db.execute("SELECT id, policy_snapshot, answers, justification, state FROM request"
                         " WHERE requestor_email = ? AND package_id = ?", (person, package)).fetchone()
        if run.returncode != 0 or not row:
            raise BenchError("capture: `gatehouse assign %s to %s` exited with %d: %s%s"
                             % (package, person, run.returncode, run.stdout, run.stderr))
        out[package] = {"snapshot": row[1], "answers": row[2], "justification": row[3],
                        "grants": package_grants(args.site, package)}
        if package == INTERNAL[0]:
            a = db.execute("SELECT id, starts_at, ends_at, next_check_at, reminders_sent FROM assignment WHERE request_id = ?",
                           (row[0],)).fetchone()
            grants = [list(g) for g in db.execute("SELECT resource_id, role FROM resource_grant WHERE assignment_id = ?"
                                                  " AND state = 'active' ORDER BY id", (a[0],) if a else ("",))]
            if row[4] != "delivered" or not a or sorted(grants) != sorted(out[package]["grants"]):
                raise BenchError("capture: the %s request is %s with grants %s; expected delivered with %s"
                                 % (package, row[4], grants, out[package]["grants"]))
            start = parse_db_time(a[1])
            end = cal.add_days(start, LENGTHS[package])
            planned = next_check(cal, start, end, 0, True)
            if a[2] != db_time(end) or a[3] != db_time(planned) or a[4] != 0:
                raise BenchError("capture: the engine planned end %s, next check %s (%s reminders sent) for an assignment "
                                 "from %s, but the bench computes end %s, next check %s; the seeded rows would disagree"
                                 % (a[2], a[3], a[4], a[1], db_time(end), db_time(planned)))
        elif row[4] != "pendingApproval":
            raise BenchError("capture: the %s request of %s is %s; expected pendingApproval" % (package, person, row[4]))
        db.close()
    return out


# MARK: The seed

def seed(args, templates, path, T):
    """The people, assignments, requests and grants of the module docstring; returns the expected counts."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    at = T.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The store creates the file and runs its migrations; nothing is due in an empty database.
    subprocess.run([args.gatehouse, "sweep", "--quiet", "--site", args.site, "--db", path, "--now", at], check=True)
    rng = random.Random(20261201)
    cal = Calendar(args.site)
    terms = bh.terms_of_use(args.site)
    terms_version = bh.fnv1a64_hex(terms.encode()) if terms.strip() else None
    guests_src = open(os.path.join(bh.REPO, "Sources", "Workflow", "Guests.swift"), encoding="utf-8").read()
    m = re.search(r'static let blockReason = "([^"]*)"', guests_src)
    block_reason = m.group(1) if m else "Your access through this portal has ended, so your guest account is blocked."
    db = connect(path)
    ba.bulk(db)
    db.execute("BEGIN")

    # People: members, then guests (signed in, terms accepted, one live session each unless blocked).
    rows = []
    for i in range(args.people):
        first = T - timedelta(days=rng.randint(30, 1500), seconds=rng.randint(0, 86399))
        rows.append((member_email(i), name_of(i), 0, 0, None, None, None, db_time(first),
                     db_time(T - timedelta(hours=rng.randint(1, 2000))), None, None, 0, None))
    m = re.search(r"(?m)^\s+removeAfterDays:\s*(\d+)", open(os.path.join(args.site, "tenant.yaml"), encoding="utf-8").read())
    if not m and args.removals:
        raise BenchError("tenant.yaml: no externalUsers.removeAfterDays, so no guest is ever removed; use --removals 0")
    after = int(m.group(1)) if m else 30
    lost_at = cal.add_days(T, -after)  # the removal-due guests lost their last assignment that long ago
    remove_at = cal.add_days(lost_at, after)
    sessions = []
    for k in range(args.guest_people):
        email = guest_email(k)
        first = T - timedelta(days=rng.randint(200, 1500), seconds=rng.randint(0, 86399))
        removal = args.guests <= k < args.guests + args.removals
        last = lost_at - timedelta(days=rng.randint(1, 20)) if removal else T - timedelta(hours=rng.randint(1, 500))
        rows.append((email, "%s (Azureblog)" % name_of(5003 + k), 1, 1, db_time(first),
                     db_time(first) if terms_version else None, terms_version, db_time(first), db_time(last),
                     db_time(lost_at) if removal else None, db_time(remove_at) if removal else None,
                     1 if removal else 0, block_reason if removal else None))
        if not removal:
            sessions.append((sha256_hex("bench-lifecycle-%d" % k), email, db_time(last), db_time(last),
                             db_time(last + timedelta(days=7))))
    db.executemany(
        "INSERT INTO person (email, display_name, is_external, is_governed_guest, governed_guest_since, terms_accepted_at,"
        " terms_version, first_sign_in_at, last_sign_in_at, lost_last_assignment_at, remove_at, is_blocked, blocked_reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO session (id_hash, email, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                   sessions)
    rows.clear()

    reqs, assigns, grants, approvers, decisions = [], [], [], [], []

    def flush():
        db.executemany(
            "INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,"
            " policy_snapshot, language, justification, answers, state, escalated, created_at, updated_at)"
            " VALUES (?, ?, 'add', 'user', ?, ?, ?, ?, 'en', ?, ?, 'delivered', 0, ?, ?)", reqs)
        db.executemany(
            "INSERT INTO assignment (id, request_id, email, package_id, policy_id, state, starts_at, ends_at, ended_at,"
            " end_reason, next_check_at, reminders_sent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", assigns)
        db.executemany("INSERT INTO resource_grant (assignment_id, resource_id, role, state, updated_at) VALUES (?, ?, ?, ?, ?)",
                       grants)
        db.executemany("INSERT INTO approver (request_id, stage, email, role, added_at) VALUES (?, 1, ?, 'primary', ?)",
                       approvers)
        db.executemany("INSERT INTO decision (request_id, stage, approver_email, decision, justification, decided_at)"
                       " VALUES (?, 1, ?, 'approve', 'Approved for the documentation project.', ?)", decisions)
        for batch in (reqs, assigns, grants, approvers, decisions):
            batch.clear()

    count, t0 = [0], time.time()
    expect = {"ended": 0, "reminded": 0, "reminded14": 0, "reminded1": 0, "revoked": 0, "guests_lost": 0}

    def add(email, package, policy, start, end, ended, next_at, sent, want):
        """One assignment with its request (and a guest's approval) and grants; `want` is what the sweep must do."""
        apply = package == INTERNAL[0]
        if ended is None:  # the engine's view must be what the bench means
            got = due(cal, T, start, end, sent, apply)
            kind = got if got in ("end", None) else got[0]
            if kind != want or (want is None and next_at != next_check(cal, start, end, sent, apply)):
                raise BenchError("seed: an assignment of %s from %s to %s (reminders sent %d) is %s at %s, meant %s"
                                 % (email, db_time(start), db_time(end), sent, got, db_time(T), want))
            if want == "reminder":
                expect["reminded%d" % got[1]] += 1
        tpl = templates[package]
        rid, aid = new_id(rng), new_id(rng)
        approved = start
        submitted = approved - timedelta(hours=rng.randint(1, 72)) if package == GUEST[0] else approved
        reqs.append((rid, "form:%s:%s" % (email, sha256_hex(rid)), email, package, policy, tpl["snapshot"],
                     tpl["justification"] or "Needed for the lab.", tpl["answers"], db_time(submitted), db_time(approved)))
        assigns.append((aid, rid, email, package, policy, "expired" if ended else "delivered", db_time(start),
                        db_time(end), db_time(ended) if ended else None, ENDED if ended else None,
                        db_time(next_at) if next_at else None, sent))
        for resource, role in tpl["grants"]:
            grants.append((aid, resource, role, "revoked" if ended else "active", db_time(ended or approved)))
        if package == GUEST[0]:
            approvers.append((rid, GUEST_APPROVER, db_time(submitted)))
            decisions.append((rid, GUEST_APPROVER, db_time(approved)))
        if want == "end":
            expect["ended"] += 1
            expect["revoked"] += len(tpl["grants"])
        if len(assigns) >= 50_000:
            count[0] += len(assigns)
            flush()
            log("  %d of %d assignments (%.0f s)" % (count[0], args.assignments, time.time() - t0))

    def live(email, package, policy, end_target, sent, want):
        """An assignment planned to end near `end_target`, started its policy's length before."""
        start = cal.add_days(end_target, -LENGTHS[package])
        end = cal.add_days(start, LENGTHS[package])
        apply = package == INTERNAL[0]
        if want == "end":
            nxt = end
        elif want == "reminder":
            nxt = reminders(cal, start, end)[sent]
        else:
            nxt = next_check(cal, start, end, sent, apply)
        add(email, package, policy, start, end, None, nxt, sent, want)

    hour = 3600
    members_expiring = args.expiring - args.guests
    # Ends reached in the last hour (a sweep every minute would take them one by one; this one finds them all).
    for k in range(args.guests):
        live(guest_email(k), *GUEST, T - timedelta(seconds=rng.randint(0, hour)), 0, "end")
        expect["guests_lost"] += 1
    for i in range(members_expiring):
        live(member_email(i), *INTERNAL, T - timedelta(seconds=rng.randint(0, hour)), 2, "end")
    # Extension reminders: half the 14-day one (its instant in the last hour), half the 1-day one.
    for n in range(args.reminders):
        i = members_expiring + n
        days, sent = (14, 0) if n % 2 == 0 else (1, 1)
        live(member_email(i), *INTERNAL, cal.add_days(T - timedelta(seconds=rng.randint(0, hour)), days), sent, "reminder")
    # Everyone else holds one package, ending 1 day to a policy length from now; nothing due.
    for i in range(members_expiring + args.reminders, args.people):
        end = T + timedelta(days=1, seconds=rng.randint(hour, (LENGTHS[INTERNAL[0]] - 2) * 86400))
        start = cal.add_days(end, -LENGTHS[INTERNAL[0]])
        end = cal.add_days(start, LENGTHS[INTERNAL[0]])
        sent = sum(1 for r in reminders(cal, start, end) if r <= T)
        add(member_email(i), *INTERNAL, start, end, None, next_check(cal, start, end, sent, True), sent, None)
    for k in range(args.guests + args.removals, args.guest_people):
        live(guest_email(k), *GUEST, T + timedelta(days=1, seconds=rng.randint(hour, (LENGTHS[GUEST[0]] - 2) * 86400)),
             0, None)
    # The removal-due guests' last assignment ended removeAfterDays ago.
    for k in range(args.guests, args.guests + args.removals):
        end = lost_at
        start = cal.add_days(end, -LENGTHS[GUEST[0]])
        add(guest_email(k), *GUEST, start, end, end, None, 0, None)
    # Ended history, mostly members'.
    history = args.assignments - args.people - args.guest_people
    for _ in range(history):
        if rng.random() < 0.9:
            email, (package, policy) = member_email(rng.randrange(args.people)), INTERNAL
        else:
            email, (package, policy) = guest_email(rng.randrange(args.guest_people)), GUEST
        start = T - timedelta(days=rng.randint(LENGTHS[package] + 40, 1800), seconds=rng.randint(0, 86399))
        end = cal.add_days(start, LENGTHS[package])
        if email.endswith(GUEST_DOMAIN) and args.guests <= int(email[1:6]) < args.guests + args.removals:
            end = min(end, lost_at)  # before their last one
        add(email, package, policy, start, end, end, None, 0, None)
    flush()
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    # No ANALYZE: the store never runs it, so the planner sees what a real database gives it (--analyze).
    db.close()
    expect["reminded"] = expect["reminded14"] + expect["reminded1"]
    expect["removals"] = args.removals
    expect["history"] = history
    return expect


def seed_key(args):
    return {"format": SEED_FORMAT, "assignments": args.assignments, "expiring": args.expiring,
            "reminders": args.reminders, "guests": args.guests, "removals": args.removals, "people": args.people,
            "guest_people": args.guest_people, "schema": bh.schema_hash(), "site": bh.site_hash(args.site)}


def seeded(args, work):
    """(seed path, metadata): made or reused from WORK/seed/."""
    folder = os.path.join(work, "seed")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "lifecycle-%d.sqlite" % args.assignments)
    meta_path = path + ".json"
    key = seed_key(args)
    if not args.reseed and os.path.exists(path) and os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        if meta.get("key") == key:
            log("Reusing the seeded database %s (%.0f MB; --reseed makes a new one)"
                % (os.path.relpath(path), os.path.getsize(path) / 1e6))
            return path, meta
    log("Seeding %s: %d assignments, %d members and %d guests" % (os.path.relpath(path), args.assignments, args.people,
                                                                 args.guest_people))
    if os.path.exists(meta_path):
        os.remove(meta_path)
    t0 = time.time()
    cal = Calendar(args.site)
    templates = capture(args, work, cal)
    T = datetime.now(timezone.utc).replace(microsecond=0)
    expect = seed(args, templates, path, T)
    meta = {"key": key, "seeded_at": db_time(T), "expect": expect}
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    log("  done in %.1f s (%.0f MB)" % (time.time() - t0, os.path.getsize(path) / 1e6))
    return path, meta


# MARK: The sweep

SUMMARY = re.compile(
    r"checked (\d+) pending requests?: (\d+) expired, (\d+) escalated, (\d+) reminded; "
    r"(\d+) scheduled assignments? started, (\d+) ended, (\d+) extension reminders?; (\d+) guests? removed"
    r"(?:; (\d+) connector events? sent, (\d+) failed(?: \((\d+) given up\))?)?(?:; (\d+) failed \(see above\))?")
FIELDS = ("checked", "expired", "escalated", "reminded", "started", "ended", "extension_reminders", "guests_removed",
          "connector_events", "connector_failed", "connector_gave_up", "failed")


def run_sweep(args, work, procs, db_path, at, label):
    """One `gatehouse sweep` under /usr/bin/time (when installed): wall time, CPU, peak RSS and its counts."""
    out_path, time_path = os.path.join(work, "run", "sweep.out"), os.path.join(work, "run", "sweep.time")
    argv = [args.gatehouse, "sweep", "--site", args.site, "--db", db_path, "--now", at]
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
    with open(os.path.join(work, "logs", "sweep.log"), "a") as f:
        f.write("$ gatehouse sweep --now %s (%s)\n%s" % (at, label, text))
    m = SUMMARY.search(text)
    if not m:
        raise BenchError("gatehouse sweep (%s) exited with %d without its summary: %s" % (label, p.returncode, text[-800:]))
    rss_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    if timed:
        fields = open(time_path).read().split()
        rss_kb, cpu = int(fields[-3]), float(fields[-2]) + float(fields[-1])
    counts = {k: int(v or 0) for k, v in zip(FIELDS, m.groups())}
    r = {"wall": wall, "cpu": cpu, "rss_mb": rss_kb / 1024, "counts": counts, "summary": m.group(0),
         "status": p.returncode}
    log("  %-10s %7.2f s wall, %6.2f s CPU, peak RSS %4.0f MB, exit %d: %s"
        % (label, wall, cpu, r["rss_mb"], p.returncode, m.group(0)))
    return r


def db_size(path):
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


def verify(db_path, T, expect, args):
    """SQL checks of what the sweeps wrote at T: (label, found, expected) rows."""
    db = connect(db_path)
    one = lambda sql, *a: db.execute(sql, a).fetchone()[0]  # noqa: E731
    audit = dict(db.execute("SELECT action, count(*) FROM audit WHERE at = ? GROUP BY action", (T,)).fetchall())
    outbox = dict(db.execute("SELECT kind, count(*) FROM outbox WHERE created_at = ? GROUP BY kind", (T,)).fetchall())
    rows = [
        ("assignments ended at the sweep", one("SELECT count(*) FROM assignment WHERE state = 'expired' AND ended_at = ?"
                                               " AND end_reason = ?", T, ENDED), expect["ended"]),
        ("  their grants revoked", one("SELECT count(*) FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id"
                                       " WHERE a.ended_at = ? AND g.state = 'revoked' AND g.updated_at = ?", T, T),
         expect["revoked"]),
        ("  their grants still active", one("SELECT count(*) FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id"
                                            " WHERE a.ended_at = ? AND g.state != 'revoked'", T), 0),
        ("remove requests (delivered, with assignment)",
         one("SELECT count(*) FROM request r JOIN assignment a ON a.id = r.assignment_id WHERE r.kind = 'remove'"
             " AND r.state = 'delivered' AND r.created_at = ? AND a.ended_at = ?", T, T), expect["ended"]),
        ("outbox accessEnded (\"has ended\")", outbox.get("accessEnded", 0), expect["ended"]),
        ("outbox extensionReminder", outbox.get("extensionReminder", 0), expect["reminded"]),
        ("outbox, other kinds", sum(v for k, v in outbox.items() if k not in ("accessEnded", "extensionReminder")), 0),
        ("  14-day reminders (\"ends in 14 days\")", one("SELECT count(*) FROM outbox WHERE created_at = ? AND"
                                                           " kind = 'extensionReminder' AND subject LIKE '%in 14 days'", T),
         expect["reminded14"]),
        ("audit ended / removed", "%d / %d" % (audit.get("ended", 0), audit.get("removed", 0)),
         "%d / %d" % (expect["ended"], expect["ended"])),
        ("audit extensionReminder", audit.get("extensionReminder", 0), expect["reminded"]),
        ("audit lostLastAssignment / guestRemoved", "%d / %d" % (audit.get("lostLastAssignment", 0),
                                                                 audit.get("guestRemoved", 0)),
         "%d / %d" % (expect["guests_lost"], expect["removals"])),
        ("guests blocked, removal planned", one("SELECT count(*) FROM person WHERE lost_last_assignment_at = ? AND"
                                                " is_blocked = 1 AND remove_at > ? AND removed_at IS NULL", T, T),
         expect["guests_lost"]),
        ("  their sessions ended", one("SELECT count(*) FROM session WHERE ended_at = ?", T), expect["guests_lost"]),
        ("guests removed", one("SELECT count(*) FROM person WHERE removed_at = ?", T), expect["removals"]),
        ("assignments still due", one("SELECT count(*) FROM assignment WHERE next_check_at <= ?", T), 0),
        ("live assignments reminded", one("SELECT count(*) FROM assignment WHERE state = 'delivered' AND id IN"
                                          " (SELECT subject_id FROM audit WHERE at = ? AND action = 'extensionReminder')"
                                          " AND next_check_at > ?", T, T), expect["reminded"]),
    ]
    db.close()
    return rows


def sweep(args, work, procs, seed_path, meta, results):
    db_path = os.path.join(work, "sweep.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    t0 = time.time()
    shutil.copyfile(seed_path, db_path)
    if args.analyze:
        t1 = time.time()
        db = connect(db_path)
        db.execute("ANALYZE")
        db.close()
        log("ANALYZE on the copy: %.1f s" % (time.time() - t1))
    before = db_size(db_path)
    T = meta["seeded_at"]
    at = parse_db_time(T).strftime("%Y-%m-%dT%H:%M:%SZ")
    e = meta["expect"]
    log("gatehouse sweep --now %s over %d assignments: %d end (%d guests' last), %d extension reminders, %d guest "
        "removals; copy %.1f s" % (at, args.assignments, e["ended"], e["guests_lost"], e["reminded"], e["removals"],
                                    time.time() - t0))
    first = run_sweep(args, work, procs, db_path, at, "first run")
    after = db_size(db_path)
    second = run_sweep(args, work, procs, db_path, at, "second run")
    want = dict.fromkeys(FIELDS, 0)
    want.update(ended=e["ended"], extension_reminders=e["reminded"], guests_removed=e["removals"])
    problems = []
    if first["counts"] != want or first["status"] != 0:
        problems.append("the first sweep did %s (exit %d), expected %s"
                        % ({k: v for k, v in first["counts"].items() if v}, first["status"],
                           {k: v for k, v in want.items() if v}))
    if any(second["counts"].values()) or second["status"] != 0:
        problems.append("the second sweep did %s (exit %d), expected nothing" % (second["counts"], second["status"]))
    checks = verify(db_path, T, e, args)
    for label, found, expected in checks:
        if found != expected:
            problems.append("%s: %s, expected %s" % (label.strip(), found, expected))
    results.update(first=first, second=second, before=before, after=after, checks=checks, problems=problems)
    os.remove(db_path)  # a GB-sized copy; the seed stays
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)


# MARK: Report

def report(args, meta, r):
    e = meta["expect"]
    lines = ["", "bench-lifecycle: gatehouse sweep%s over %d assignments (%d members, %d guests); due: %d ends (%d of them "
             "guests' last), %d extension reminders (%d at 14 days, %d at 1 day), %d guest removals"
             % (" (after ANALYZE)" if args.analyze else "", args.assignments, args.people, args.guest_people, e["ended"], e["guests_lost"], e["reminded"],
                e["reminded14"], e["reminded1"], e["removals"])]
    for label in ("first", "second"):
        s = r[label]
        lines.append("  %-6s run %7.2f s wall %7.2f s CPU  peak RSS %5.0f MB  %s" % (label, s["wall"], s["cpu"],
                                                                                  s["rss_mb"], s["summary"]))
    lines.append("  database %.0f MB before, %.0f MB after the first run (+%.1f MB, with its WAL)"
                 % (r["before"] / 1e6, r["after"] / 1e6, (r["after"] - r["before"]) / 1e6))
    lines.append("  checked in SQL afterwards:")
    for label, found, expected in r["checks"]:
        lines.append("    %-46s %12s%s" % (label, found, "" if found == expected else "   PROBLEM: expected %s" % expected))
    for p in r["problems"]:
        lines.append("  PROBLEM: " + p)
    return "\n".join(lines)


# MARK: Main

FULL = {"assignments": 1_000_000, "expiring": 10_000, "reminders": 10_000, "guests": 1_000, "removals": 500,
        "people": 200_000, "guest_people": 5_000}
QUICK = {"assignments": 20_000, "expiring": 200, "reminders": 200, "guests": 20, "removals": 10, "people": 4_000,
         "guest_people": 100}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", required=True, help="the gatehouse binary (a release build)")
    ap.add_argument("--work", default="var/bench-lifecycle")
    ap.add_argument("--site", default="site", help="the example site (its policies and tenant settings)")
    ap.add_argument("--assignments", type=int, help="assignments in the database; default 1,000,000")
    ap.add_argument("--expiring", type=int, help="assignments whose end has come; default 10,000")
    ap.add_argument("--reminders", type=int, help="assignments due an extension reminder; default 10,000")
    ap.add_argument("--guests", type=int, help="of the expiring, governed guests' last assignment; default 1,000")
    ap.add_argument("--removals", type=int, help="guests due for removal (lost their last assignment removeAfterDays ago); "
                                                 "default 500")
    ap.add_argument("--people", type=int, help="members, each holding one internal-access-package; default 200,000")
    ap.add_argument("--guest-people", type=int, help="governed guests; default 5,000")
    ap.add_argument("--quick", action="store_true",
                    help="a small try: 20,000 assignments, 200 ending, 200 reminders, 4,000 members, 100 guests; "
                         "options given explicitly still count")
    ap.add_argument("--analyze", action="store_true",
                    help="run ANALYZE on the copy first (the store never does): the query plans then follow its statistics")
    ap.add_argument("--reseed", action="store_true", help="seed a new database even if a matching one is kept")
    args = ap.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not 0 <= args.guests <= args.expiring:
        raise SystemExit("--guests must be between 0 and --expiring")
    if args.people < args.expiring - args.guests + args.reminders:
        raise SystemExit("--people must be at least %d (one per expiring member and per reminder)"
                         % (args.expiring - args.guests + args.reminders))
    if args.guest_people < args.guests + args.removals or args.removals < 0:
        raise SystemExit("--guest-people must be at least --guests + --removals (%d)" % (args.guests + args.removals))
    if args.assignments < args.people + args.guest_people:
        raise SystemExit("--assignments must be at least %d (one per person)" % (args.people + args.guest_people))

    args.gatehouse = os.path.abspath(args.gatehouse)
    args.site = os.path.abspath(args.site)
    work = os.path.abspath(args.work)
    for sub in ("logs", "run", "seed"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    procs = bh.Processes()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        started = time.time()
        log("%s, load average %s" % (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                     " ".join(open("/proc/loadavg").read().split()[:3])))
        seed_path, meta = seeded(args, work)
        results = {}
        sweep(args, work, procs, seed_path, meta, results)
        text = report(args, meta, results) + "\n(%.0f s in all)" % (time.time() - started)
        print(text, flush=True)
        with open(os.path.join(work, "results.txt"), "w") as f:
            f.write(text + "\n")
        return 0 if not results["problems"] else 2
    except BenchError as e:
        print("bench-lifecycle: %s (logs in %s/logs/)" % (e, os.path.relpath(work)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench-lifecycle: interrupted", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
