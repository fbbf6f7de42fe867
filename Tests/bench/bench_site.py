#!/usr/bin/env python3
"""`make bench-site`: time `gatehouse build` on 10,000 packages against hugo on 10,000 pages.

usage: bench_site.py --gatehouse BIN [--work var/bench] [--packages 10000] [--runs 3]
                     [--hugo-generator ../shared/bench-baseline/hugo/gen_site.py]

1. Writes a deterministic synthetic tenant into WORK/site: a few catalogs, people, groups and
   connected organizations, and N packages, each with a ~1.5 KB Markdown description and two or
   three policies (questions with French translations, approval stages, lifecycles).
2. `gatehouse check`, then times `gatehouse build` into an empty folder (full), RUNS times, and
   again with nothing changed (rebuild), RUNS times.
3. Generates a hugo site of N comparable Markdown pages (with the baseline's gen_site.py when it
   is there, otherwise with an equivalent generator below) and times `hugo` into an empty folder,
   RUNS times.
Every full build, gatehouse's or hugo's, writes into a new empty folder.
Prints best and median wall times, CPU times and the ratios; writes them to WORK/results.txt.
Only the standard library is used.
"""
import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The same vocabulary and Markdown shapes as the baseline's hugo/gen_site.py, so descriptions
# and hugo pages are comparable.
WORDS = ("access request portal member review team project volunteer moderator "
         "invitation channel message record event update release document guide "
         "policy privacy support issue tracker question answer community welcome "
         "translation contributor meeting schedule notes summary decision change").split()
TAGS = ["news", "howto", "events", "release", "community", "policy", "support", "docs"]


def sentence(rng, lo=8, hi=16):
    ws = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    j = rng.randrange(len(ws))
    kind = rng.randrange(4)
    if kind == 0:
        ws[j] = "**%s**" % ws[j]
    elif kind == 1:
        ws[j] = "*%s*" % ws[j]
    elif kind == 2:
        ws[j] = "`%s`" % ws[j]
    else:
        ws[j] = "[%s](https://example.org/%s)" % (ws[j], ws[j])
    s = " ".join(ws)
    return s[0].upper() + s[1:] + "."


def plain(rng, lo, hi):
    s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))
    return s[0].upper() + s[1:]


def paragraph(rng, n=3):
    return " ".join(sentence(rng) for _ in range(n))


def body(rng, target=1600):
    parts = [paragraph(rng, 3), "## " + plain(rng, 3, 5), paragraph(rng, 2),
             "\n".join("- " + sentence(rng, 4, 8) for _ in range(4)), "> " + sentence(rng),
             "```\n%s = %d\n%s(%s)\n```" % (rng.choice(WORDS), rng.randint(1, 999),
                                          rng.choice(WORDS), rng.choice(WORDS))]
    text = "\n\n".join(parts)
    while len(text.encode()) < target - 100:
        text += "\n\n" + paragraph(rng, 1)
    return text[:target].rsplit(" ", 1)[0] + " end.\n" if len(text) > target else text + "\n"


def q(text):
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


# --- the synthetic tenant -------------------------------------------------------------------

DOMAIN = "bench.example"
N_PEOPLE = 200
N_GROUPS = 10
N_ORGS = 5
N_CATALOGS = 5
N_RESOURCES = 20          # per catalog
ROLES = {"group": ["Member", "Owner"], "application": ["Reader", "Contributor"],
         "site": ["Read", "Edit", "Full control"]}


def person(k):
    return "person-%04d@%s" % (k, DOMAIN)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def catalog_is_external(c):
    return c % 2 == 1


def resource_type(r):
    return ("group", "application", "site")[r % 3]


def write_tenant(site, rng):
    write(os.path.join(site, "tenant.yaml"), f"""name: Bench Tenant
domains: [{DOMAIN}]
baseURL: http://127.0.0.1:8080
timeZone: Europe/Paris
languages: [en, fr]
admins: [{person(1)}]
externalUsers:
  blockSignIn: false
  removeAfterDays: 30
termsOfUse: |
  {paragraph(rng, 2)}
""")
    lines = ["people:"]
    for k in range(1, N_PEOPLE + 1):
        lines += [f"  - email: {person(k)}", f"    name: {q('Person %d %s' % (k, plain(rng, 1, 1)))}"]
        if k > 1:
            lines.append(f"    manager: {person(max(1, k // 5))}")
        lines.append(f"    groups: [group-{k % N_GROUPS + 1:02d}{', approvers' if k % 10 == 0 else ''}]")
    lines.append("groups:")
    lines += [f"  - {{id: group-{g:02d}, name: {q('Group %d' % g)}}}" for g in range(1, N_GROUPS + 1)]
    lines.append("  - {id: approvers, name: \"Access approvers\"}")
    write(os.path.join(site, "people.yaml"), "\n".join(lines) + "\n")
    for o in range(1, N_ORGS + 1):
        write(os.path.join(site, "organizations", f"org-{o}.yaml"), f"""name: {q('Partner %d' % o)}
description: {q(plain(rng, 6, 10) + '.')}
domains: [org-{o}.example]
internalSponsors: [{person(o + 1)}]
externalSponsors: [sponsor@org-{o}.example]
state: configured
""")
    for c in range(1, N_CATALOGS + 1):
        res = []
        for r in range(1, N_RESOURCES + 1):
            kind = resource_type(r)
            roles = ", ".join(ROLES[kind])
            res.append(f"  - {{id: c{c}-res-{r:02d}, type: {kind}, name: {q('Resource %d.%d' % (c, r))}, roles: [{roles}]}}")
        write(os.path.join(site, "catalogs", f"cat-{c}.yaml"), f"""name: {q('Catalog %d' % c)}
description: {q(plain(rng, 6, 10) + '.')}
enabled: true
externalUsers: {'true' if catalog_is_external(c) else 'false'}
resources:
{chr(10).join(res)}
roles:
  owners: [{person(1)}]
  packageManagers: [{person(2)}]
  assignmentManagers: [{person(3)}]
  readers: []
""")
    os.makedirs(os.path.join(site, "static"), exist_ok=True)


def text_question(qid, kind, required, en, fr, extra=""):
    return f"""      - id: {qid}
        type: {kind}
        required: {'true' if required else 'false'}
        text: {{default: {q(en)}, fr: {q(fr)}}}
{extra}"""


def choice_question(rng, qid, multiple):
    values = rng.sample(WORDS, 4)
    choices = "\n".join(f"          - {{value: {v}, text: {{default: {q(v.title())}, fr: {q(v.title() + ' (fr)')}}}}}"
                        for v in values)
    return f"""      - id: {qid}
        type: multipleChoice
        required: true
{'        multipleSelection: true' + chr(10) if multiple else ''}        text: {{default: {q('Which ' + rng.choice(WORDS) + ' do you need?')}, fr: {q('De quel ' + rng.choice(WORDS) + ' avez-vous besoin ?')}}}
        choices:
{choices}
"""


def policy_specific_people(rng, i):
    group = f"group-{i % N_GROUPS + 1:02d}"
    return f"""  - id: team
    name: {q('Members of ' + group)}
    requestors: {{scope: specificPeople, people: [{person(rng.randint(1, N_PEOPLE))}], groups: [{group}]}}
    justification: required
    approval:
      stages:
        - approvers: [{{manager: true}}]
          fallback: [{{person: {person(2)}}}]
          timeoutDays: 14
          justificationRequired: true
          escalation: {{afterDays: 8, approvers: [{{secondLevelManager: true}}]}}
        - approvers: [{{group: approvers}}]
          timeoutDays: 7
    questions:
""" + text_question("cost-center", "shortText", True, "Cost center (four digits)",
                    "Centre de coûts (quatre chiffres)", '        regex: "[0-9]{4}"\n        maxLength: 4\n') \
        + text_question("purpose", "longText", False, "What will you use it for?",
                        "À quoi allez-vous l'utiliser ?") + f"""    lifecycle:
      expiration: {{afterDays: {rng.choice([30, 90, 180, 365])}}}
      customSchedule: true
      extension: {{allowed: true, requiresApproval: true}}
      review:
        startsOn: 2027-01-01
        frequency: {rng.choice(['monthly', 'quarterly'])}
        durationDays: 14
        reviewers: [{{person: {person(2)}}}]
        justificationRequired: true
        whenNoResponse: removeAccess
"""


def policy_all_members(rng, i):
    return f"""  - id: members
    name: {q('All members: ' + plain(rng, 2, 4))}
    requestors: {{scope: allMembers}}
    justification: optional
    approval: none
    questions:
""" + choice_question(rng, "need", i % 2 == 0) + f"""    lifecycle:
      expiration: {{afterHours: {rng.choice([8, 24, 72])}}}
      extension: {{allowed: false}}
    notifications: {{requestor: false}}
"""


def policy_partners(rng, i):
    org = f"org-{i % N_ORGS + 1}"
    return f"""  - id: partners
    name: {q('People of ' + org)}
    requestors: {{scope: specificOrganizations, organizations: [{org}]}}
    justification: required
    approval:
      stages:
        - approvers: [{{internalSponsors: true}}]
          fallback: [{{person: {person(2)}}}]
          timeoutDays: 14
          justificationRequired: true
    questions:
""" + text_question("company", "shortText", False, "Which company do you work for?",
                    "Pour quelle entreprise travaillez-vous ?", "        maxLength: 100\n") \
        + choice_question(rng, "team", False) + """    lifecycle:
      expiration: never
      extension: {allowed: false}
"""


def policy_all_users(rng, i):
    return f"""  - id: everyone
    name: {q('Members and guests: ' + plain(rng, 2, 4))}
    requestors: {{scope: allUsers}}
    justification: none
    approval:
      stages:
        - approvers: [{{person: {person(3)}}}]
          timeoutDays: 10
    questions:
""" + text_question("reason", "shortText", True, "Project name", "Nom du projet") + """    lifecycle:
      expiration: {afterDays: 30}
"""


def write_packages(site, rng, n):
    for i in range(1, n + 1):
        c = i % N_CATALOGS + 1
        picks = rng.sample(range(1, N_RESOURCES + 1), 2)
        resources = "\n".join(
            f"  - {{resource: c{c}-res-{r:02d}, role: {q(rng.choice(ROLES[resource_type(r)]))}}}" for r in picks)
        policies = policy_specific_people(rng, i) + policy_all_members(rng, i)
        if i % 5 == 0:  # every fifth package has a third policy
            policies += policy_partners(rng, i) if catalog_is_external(c) else policy_all_users(rng, i)
        incompatible = f"incompatible: {{packages: [pkg-{i - 1:05d}], groups: []}}\n" if i % 7 == 0 else ""
        write(os.path.join(site, "packages", f"pkg-{i:05d}.md"), f"""---
name: {q('Package %d: %s' % (i, plain(rng, 2, 5)))}
catalog: cat-{c}
hidden: {'true' if i % 50 == 0 else 'false'}
resources:
{resources}
{incompatible}policies:
{policies}---
{body(rng)}""")


def generate_site(site, n):
    if os.path.exists(site):
        shutil.rmtree(site)
    rng = random.Random(42)
    write_tenant(site, rng)
    write_packages(site, rng, n)


# --- an equivalent of the baseline's hugo/gen_site.py, for when it is not there --------------

HUGO_CONFIG = """baseURL = "http://127.0.0.1/"
title = "Baseline Bench Site"
languageCode = "en"
# Render only the 10,000 content pages: no home/list/taxonomy/RSS/sitemap pages.
disableKinds = ["home", "section", "taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
"""
HUGO_LAYOUT = """<!doctype html>
<html lang="{{ .Site.LanguageCode }}">
<head>
<meta charset="utf-8">
<title>{{ .Title }} | {{ .Site.Title }}</title>
<meta name="description" content="{{ .Description }}">
</head>
<body>
<header><a href="/">{{ .Site.Title }}</a></header>
<main>
<article>
<h1>{{ .Title }}</h1>
<p class="meta">{{ .Date.Format "2006-01-02" }}{{ with .Params.tags }} &middot; {{ delimit . ", " }}{{ end }}</p>
{{ .Content }}
</article>
</main>
<footer>Generated for the baseline benchmark.</footer>
</body>
</html>
"""


def generate_hugo_site(dest, n):
    rng = random.Random(42)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    write(os.path.join(dest, "config.toml"), HUGO_CONFIG)
    write(os.path.join(dest, "layouts", "_default", "single.html"), HUGO_LAYOUT)
    for i in range(1, n + 1):
        b = body(rng)
        tags = rng.sample(TAGS, 2)
        fm = ("---\n"
              f"title: \"Page {i}: {plain(rng, 3, 6)}\"\n"
              f"date: 2024-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}T10:00:00Z\n"
              f"description: \"{plain(rng, 6, 10)}.\"\n"
              f"tags: [{', '.join(tags)}]\n"
              "draft: false\n"
              "---\n\n")
        write(os.path.join(dest, "content", "posts", f"page-{i:05d}.md"), fm + b)


# --- timing ---------------------------------------------------------------------------------

HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PF_KTHREAD = 0x00200000


def busy_cpu_seconds():
    """User-space CPU time the whole machine has used (Linux), or None elsewhere.

    user + nice + system from /proc/stat, less the time of kernel threads (writeback, journal),
    which mostly work for whoever writes files: that is part of a build's cost, not another job.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    kernel = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            if int(rest[6]) & PF_KTHREAD:
                kernel += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            continue
    return (fields[0] + fields[1] + fields[2] - kernel) / HZ


def timed(cmd):
    """Runs cmd; returns (wall s, CPU s of cmd, CPU s of other processes meanwhile, stdout).

    The third figure tells whether another job competed for the two cores during the run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = busy_cpu_seconds()
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - start
    busy_after = busy_cpu_seconds()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"bench: `{' '.join(cmd)}` failed with status {done.returncode}:\n{done.stdout[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    other = max(0.0, busy_after - busy_before - cpu) if busy_before is not None else 0.0
    return wall, cpu, other, done.stdout


def show(path):
    """A path relative to the current folder when it is inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def count_files(folder, suffix=".html"):
    return sum(1 for _, _, files in os.walk(folder) for f in files if f.endswith(suffix))


def summary(label, runs):
    walls = [r[0] for r in runs]
    cpus = [r[1] for r in runs]
    others = [r[2] for r in runs]
    return (f"{label:<36} best {min(walls):6.2f} s   median {statistics.median(walls):6.2f} s"
            f"   (CPU {statistics.median(cpus):5.2f} s; runs: {', '.join('%.2f' % w for w in walls)};"
            f" other processes {max(others):.1f} CPU-s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", required=True, help="the gatehouse binary (release build)")
    ap.add_argument("--work", default="var/bench", help="scratch folder (replaced)")
    ap.add_argument("--packages", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--templates", default=os.path.join(REPO, "templates"))
    ap.add_argument("--hugo-generator", default=os.path.join(os.path.dirname(REPO), "shared",
                                                             "bench-baseline", "hugo", "gen_site.py"))
    args = ap.parse_args()

    work = os.path.abspath(args.work)
    site, hugo_site = os.path.join(work, "site"), os.path.join(work, "hugo-site")
    # Each timed full build writes into a folder of its own: deleting tens of thousands of files
    # right before a run makes the file system slow for a while, which would be billed to the run.
    outs = [os.path.join(work, f"out-{i + 1}") for i in range(args.runs)]
    hugo_outs = [os.path.join(hugo_site, f"public-{i + 1}") for i in range(args.runs)]
    # A previous run's files are deleted at the end, after the timings, for the same reason.
    stale = work + ".old"
    if os.path.exists(work):
        shutil.rmtree(stale, ignore_errors=True)
        os.rename(work, stale)
    os.makedirs(work)
    n = args.packages

    print(f"Generating {n:,} packages in {show(site)}")
    generate_site(site, n)
    _, _, _, report = timed([args.gatehouse, "check", "--site", site])
    print("  gatehouse check: " + (report.strip().splitlines() or ["ok"])[-1])

    def build(out):
        return timed([args.gatehouse, "build", "--site", site, "--templates", args.templates, "--out", out])

    full, rebuild = [], []
    for out in outs:
        os.sync()  # the previous run's writeback is not billed to this one
        wall, cpu, other, log = build(out)
        full.append((wall, cpu, other))
        last_full = log.strip().splitlines()[-1] if log.strip() else ""
    pages = count_files(outs[-1])
    for _ in range(args.runs):
        wall, cpu, other, log = build(outs[-1])
        rebuild.append((wall, cpu, other))
        last_rebuild = log.strip().splitlines()[-1] if log.strip() else ""
    print(f"  full build says:    {last_full}")
    print(f"  rebuild says:       {last_rebuild}")

    hugo = shutil.which("hugo")
    hugo_runs, hugo_pages = [], 0
    if hugo is None:
        print("hugo is not installed (make bench-site installs it); skipping the comparison")
    else:
        if os.path.exists(args.hugo_generator):
            print(f"Generating {n:,} hugo pages with {show(os.path.abspath(args.hugo_generator))}")
            subprocess.run([sys.executable, args.hugo_generator, hugo_site, str(n)], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            print(f"Generating {n:,} hugo pages (baseline generator not found; using the equivalent here)")
            generate_hugo_site(hugo_site, n)
        for public in hugo_outs:
            shutil.rmtree(os.path.join(hugo_site, "resources"), ignore_errors=True)
            os.sync()
            wall, cpu, other, _ = timed([hugo, "--quiet", "--source", hugo_site, "--destination", public])
            hugo_runs.append((wall, cpu, other))
        hugo_pages = count_files(hugo_outs[-1])

    # Keep one output of each for a look; the others only cost disk space.
    for folder in outs[:-1] + hugo_outs[:-1] + [stale]:
        shutil.rmtree(folder, ignore_errors=True)

    lines = [
        "",
        f"gatehouse: {n:,} packages -> {pages:,} HTML pages; hugo: {hugo_pages:,} pages "
        f"({args.runs} runs each, wall clock)",
        summary("gatehouse full build (empty folder)", full),
        summary("gatehouse no-change rebuild", rebuild),
    ]
    g_full = statistics.median(r[0] for r in full)
    g_rebuild = statistics.median(r[0] for r in rebuild)
    if hugo_runs:
        h = statistics.median(r[0] for r in hugo_runs)
        lines.append(summary("hugo full build (empty folder)", hugo_runs))
        lines.append(f"ratio gatehouse full / hugo (median):      {g_full / h:5.2f}   (target <= 1)")
        lines.append(f"pages per second: gatehouse {pages / g_full:,.0f}, hugo {hugo_pages / h:,.0f}")
    lines.append(f"ratio rebuild / full build (median):       {g_rebuild / g_full:5.2f}   (target < 0.10)")
    if any(r[2] > max(0.5, 0.1 * r[0]) for r in full + rebuild + hugo_runs):
        lines.append("note: other processes used the CPU during some runs; rerun on a quiet machine")
    print("\n".join(lines))
    write(os.path.join(work, "results.txt"), "\n".join(lines[1:]) + "\n")
    print(f"(also in {show(os.path.join(work, 'results.txt'))})")


if __name__ == "__main__":
    main()
