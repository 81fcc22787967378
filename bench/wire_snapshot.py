#!/usr/bin/env python3
"""Wire snapshot: a fixed sequence of HTTP requests against a pipestack binary, and a
normalized transcript of every answer, to prove two builds answer byte-identically.

    python3 bench/wire_snapshot.py BINARY OUT.txt [postgres://user:pass@host:port/db]

Without a PostgreSQL URL the server runs on a fresh SQLite file in a temporary directory.
With one, a fresh database `pipestack_snap_<pid>` is created on that server (through `psql`)
and dropped at the end.

Setup: the server is started once (it creates the company and its admin with a fixed token),
stopped, a second user ("Jane Doe") is added with `BINARY users add`, and the server is started
again, so no request depends on a cache expiring. Ids used in later requests are read from
earlier answers; nothing is random, so two runs send the same requests.

Each request is written as:

    ### METHOD PATH
    status: N
    header-name: value            (every response header except Date, in received order)

    BODY                          (the bytes received, decoded as UTF-8, normalized)

Normalization (deterministic; everything else is kept byte for byte, key order included):
  - v2 cursors (`next_cursor` values, `cursor=` in paths) are base64url-decoded and printed as
    `<CURSOR {decoded JSON, itself normalized}>`; inside a cursor, a Unix time (10 digits, or
    13 for milliseconds) within two days of the run becomes `<TIME>` (the fixed add_time's
    1508332987 stays);
  - timestamps `YYYY-MM-DD HH:MM:SS` and RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`)
    become `<TIME>`, except the fixed add_time 2017-10-18 13:23:07 (in either form) we send;
  - a bare date `YYYY-MM-DD` becomes `<DATE>` only when it is today's date (UTC or local, at
    the start or the end of the run);
  - the fixed API token becomes `<TOKEN>`; every other distinct 40-hex string (custom field
    keys, other users' tokens) becomes `<HEX1>`, `<HEX2>`, ... in order of first appearance
    across the whole transcript.
"""

import base64
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

TOKEN = "0123456789abcdef0123456789abcdef01234567"
SEED_ADD_TIME = "2017-10-18 13:23:07"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


# ---------------------------------------------------------------------------------------------
# Server lifecycle


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, db_url, workdir):
        self.binary = binary
        self.db_url = db_url
        self.workdir = workdir
        self.proc = None
        self.base = None
        self.log = None

    def start(self):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--database", self.db_url, "serve",
             "--listen", f"127.0.0.1:{port}", "--api-token", TOKEN],
            stdout=self.log, stderr=self.log,
            env={**os.environ, "PIPESTACK_LOG": "warn"},
        )
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                req = urllib.request.Request(self.base + "/v1/users/me", headers={"x-api-token": TOKEN})
                with urllib.request.urlopen(req, timeout=5) as r:
                    r.read()
                    if r.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() - t0 > 60:
                raise RuntimeError("server did not answer /v1/users/me within 60 s")
            time.sleep(0.02)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None


# ---------------------------------------------------------------------------------------------
# Requests and the raw transcript


class Session:
    def __init__(self, server):
        self.server = server
        self.entries = []  # (method, path, status, [(name, value)], body bytes)

    def call(self, method, path, body=None, *, ctype=JSON, raw=None, token=TOKEN, headers=None):
        """Sends one request, records it, returns (status, parsed JSON or None)."""
        data = None
        hdrs = {}
        if token is not None:
            hdrs["x-api-token"] = token
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
        if data is not None and ctype is not None:
            hdrs["Content-Type"] = ctype
        hdrs.update(headers or {})
        req = urllib.request.Request(self.server.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, resp_headers, payload = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            status, resp_headers, payload = e.code, e.headers.items(), e.read()
        self.entries.append((method, path, status, list(resp_headers), payload))
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        return status, parsed


def data_of(answer):
    status, parsed = answer
    if parsed is None or not isinstance(parsed, dict) or "data" not in parsed:
        raise RuntimeError(f"unexpected answer {status}: {parsed!r}")
    return parsed["data"]


def id_of(answer):
    d = data_of(answer)
    if not isinstance(d, dict) or "id" not in d:
        raise RuntimeError(f"no id in {answer!r}")
    return d["id"]


def cursor_of(answer):
    status, parsed = answer
    c = ((parsed or {}).get("additional_data") or {}).get("next_cursor")
    if not c:
        raise RuntimeError(f"no next_cursor in {answer!r}")
    return c


# ---------------------------------------------------------------------------------------------
# The fixed sequence


def scenario(s, jane_id):
    q = urllib.parse.quote

    # --- users
    s.call("GET", "/v1/users/me")
    s.call("GET", "/v1/users")
    s.call("GET", f"/v1/users/{jane_id}")
    s.call("GET", "/v1/users/find?term=jan")
    s.call("GET", "/v1/users/find?term=example.com&search_by_email=1")

    # --- organizations
    org1 = id_of(s.call("POST", "/v1/organizations",
                        {"name": "Bolt", "address": "Mustamäe tee 3a, 10615 Tallinn", "visible_to": "3"}))
    org2 = id_of(s.call("POST", "/api/v2/organizations",
                        {"name": "Acme", "address": {"value": "Main St 1", "country": "Estonia"},
                         "website": "https://acme.example", "industry": 2, "employee_count": 10,
                         "annual_revenue": 0, "linkedin": "https://linkedin.com/company/acme",
                         "visible_to": 7, "custom_fields": {}}))
    org3 = id_of(s.call("POST", "/api/v2/organizations", {"name": "Doomed Org"}))
    s.call("GET", f"/v1/organizations/{org1}")
    s.call("GET", f"/api/v2/organizations/{org2}")
    s.call("PUT", f"/v1/organizations/{org1}", {"name": "Bolt Ltd", "address": "Main St 1"})
    s.call("PATCH", f"/api/v2/organizations/{org2}", {"employee_count": 12, "website": None})
    s.call("GET", "/v1/organizations?start=0&limit=10&sort=" + q("name ASC"))
    c = cursor_of(s.call("GET", "/api/v2/organizations?limit=1"))
    s.call("GET", f"/api/v2/organizations?limit=1&cursor={c}")

    # --- person fields (v1 and v2)
    s.call("GET", "/v1/personFields")
    enum_f = data_of(s.call("POST", "/v1/personFields",
                            {"name": "Tier", "field_type": "enum",
                             "options": [{"label": "Gold"}, {"label": "Silver"}]}))
    money_f = data_of(s.call("POST", "/v1/personFields", {"name": "Budget", "field_type": "monetary"}))
    var_f = data_of(s.call("POST", "/v1/personFields", {"name": "Nickname", "field_type": "varchar"}))
    text_f = data_of(s.call("POST", "/api/v2/personFields", {"field_name": "Scratch", "field_type": "text"}))
    gold, silver = enum_f["options"][0]["id"], enum_f["options"][1]["id"]
    enum_k, money_k, var_k = enum_f["key"], money_f["key"], var_f["key"]
    enum_f = data_of(s.call("PUT", f"/v1/personFields/{enum_f['id']}",
                            {"name": "Level", "options": [{"id": gold, "label": "Golden"},
                                                          {"id": silver, "label": "Silver"},
                                                          {"label": "Bronze"}]}))
    s.call("GET", f"/v1/personFields/{money_f['id']}")
    c = cursor_of(s.call("GET", "/api/v2/personFields?limit=5"))
    s.call("GET", f"/api/v2/personFields?limit=5&cursor={c}")
    s.call("GET", f"/api/v2/personFields/{enum_k}?include_fields=ui_visibility,required_fields")
    s.call("PATCH", f"/api/v2/personFields/{var_k}", {"field_name": "Nick"})
    opts = data_of(s.call("POST", f"/api/v2/personFields/{enum_k}/options",
                          [{"label": "Platinum"}, {"label": "Tin"}]))
    tin = opts[1]["id"]
    s.call("PATCH", f"/api/v2/personFields/{enum_k}/options", [{"id": opts[0]["id"], "label": "Plat"}])
    s.call("DELETE", f"/api/v2/personFields/{enum_k}/options", [{"id": tin}])
    s.call("DELETE", f"/api/v2/personFields/{text_f['field_code']}")

    # --- persons: creation
    p1 = id_of(s.call("POST", "/v1/persons", {
        "name": "Will Smith", "owner_id": 1,
        "email": [{"value": "will@example.com", "primary": True, "label": "work"}],
        "phone": [{"value": "12345", "primary": True, "label": "work"}],
        "label": 1, "visible_to": "3", "marketing_status": "subscribed", "add_time": SEED_ADD_TIME}))
    p2 = id_of(s.call("POST", "/v1/persons", {
        "name": "Anna Maria van Dijk", "org_id": org1, "owner_id": jane_id,
        "email": ["anna@example.com", "anna.dijk@work.example"], "phone": "+1 (555) 010-0",
        enum_k: str(gold), money_k: 500, money_k + "_currency": "EUR", var_k: "annie"}))
    p3 = id_of(s.call("POST", "/api/v2/persons", {
        "name": "Bob Builder", "org_id": org2,
        "emails": [{"value": "bob@example.com", "primary": True, "label": "work"}],
        "phones": [{"value": "777 123", "primary": True, "label": "mobile"}],
        "label_ids": [1, 2], "marketing_status": "subscribed",
        "custom_fields": {enum_k: silver, money_k: {"value": 12.5, "currency": "USD"}, var_k: "bobby"}}))
    p4 = id_of(s.call("POST", "/api/v2/persons", {
        "first_name": "Ada", "last_name": "Lovelace", "add_time": "2017-10-18T13:23:07Z"}))
    p5 = id_of(s.call("POST", "/v1/persons", {
        "name": "Carl Dup", "email": [{"value": "carl@example.com", "primary": True, "label": "work"}]}))
    p6 = id_of(s.call("POST", "/v1/persons", {
        "name": "Carla Dup", "email": "CARL@example.com", "phone": "888", "org_id": org1}))
    p7 = id_of(s.call("POST", "/v1/persons", {"name": "Zed Gone"}))
    p8 = id_of(s.call("POST", "/v1/persons", raw=(
        "name=Yan+Gone&visible_to=1&email[0][value]=yan%40example.com&email[0][label]=home"
        "&phone[]=111&phone[]=222&add_time=2017-10-18+13%3A23%3A07"), ctype=FORM))

    # --- persons: reads and lists
    s.call("GET", f"/v1/persons/{p1}")
    s.call("GET", f"/api/v1/persons/{p2}")
    s.call("GET", f"/api/v2/persons/{p3}?include_fields=marketing_status&include_option_labels=true")
    s.call("GET", "/v1/persons?start=0&limit=3&sort=" + q("name ASC"))
    s.call("GET", "/v1/persons?start=3&limit=3&sort=" + q("name ASC"))
    c = cursor_of(s.call("GET", "/api/v2/persons?limit=3"))
    s.call("GET", f"/api/v2/persons?limit=3&cursor={c}")
    c = cursor_of(s.call("GET", "/api/v2/persons?limit=3&sort_by=add_time&sort_direction=asc"))
    s.call("GET", f"/api/v2/persons?limit=3&sort_by=add_time&sort_direction=asc&cursor={c}")

    # --- persons: updates (custom values through v1 root keys and v2 custom_fields)
    s.call("PUT", f"/v1/persons/{p2}", {
        "name": "Anna van Dijk", "phone": [{"value": "555", "primary": True, "label": "mobile"}],
        money_k: 750, var_k: "anna-v"})
    s.call("PATCH", f"/api/v2/persons/{p3}", {
        "org_id": None, "visible_to": 1,
        "custom_fields": {var_k: None, enum_k: gold, money_k: {"value": 99, "currency": "GBP"}}})
    s.call("GET", f"/api/v2/persons/{p2}?custom_fields={money_k},{enum_k}&include_option_labels=true")

    # --- search
    s.call("GET", "/v1/persons/search?term=dup")
    s.call("GET", "/v1/persons/search?term=carl%40example.com&fields=email&exact_match=true")
    s.call("GET", "/api/v2/persons/search?term=anna")
    s.call("GET", "/api/v2/persons/search?term=bobby&fields=custom_fields")
    s.call("GET", "/api/v2/organizations/search?term=bolt")

    # --- merge
    s.call("PUT", f"/v1/persons/{p6}/merge", {"merge_with_id": p5})
    s.call("GET", f"/v1/persons/{p5}")

    # --- followers
    s.call("GET", f"/v1/persons/{p1}/followers")
    rel = id_of(s.call("POST", f"/v1/persons/{p1}/followers", {"user_id": jane_id}))
    s.call("GET", f"/v1/persons/{p1}/permittedUsers")
    s.call("DELETE", f"/v1/persons/{p1}/followers/{rel}")
    s.call("POST", f"/api/v2/persons/{p3}/followers", {"user_id": jane_id})
    c = cursor_of(s.call("GET", f"/api/v2/persons/{p3}/followers?limit=1"))
    s.call("GET", f"/api/v2/persons/{p3}/followers?limit=1&cursor={c}")
    s.call("DELETE", f"/api/v2/persons/{p3}/followers/{jane_id}")
    s.call("GET", f"/api/v2/persons/{p3}/followers/changelog")
    s.call("POST", f"/api/v2/organizations/{org1}/followers", {"user_id": jane_id})
    s.call("GET", f"/v1/organizations/{org1}/followers")
    s.call("GET", f"/api/v2/organizations/{org1}/followers/changelog")

    # --- organizations' persons, deletes
    s.call("GET", f"/v1/organizations/{org1}/persons")
    s.call("DELETE", f"/v1/persons/{p7}")
    s.call("DELETE", f"/v1/persons?ids={p8},{p7},999999")
    s.call("GET", f"/api/v2/persons/{p7}")
    s.call("DELETE", f"/api/v2/persons/{p4}")
    s.call("DELETE", f"/api/v2/organizations/{org3}")
    s.call("DELETE", f"/v1/organizations/{org1}")
    s.call("GET", f"/v1/persons/{p2}")
    s.call("DELETE", f"/v1/personFields/{var_f['id']}")
    s.call("GET", "/v1/persons?limit=100")
    s.call("GET", "/api/v2/persons?limit=100&include_fields=marketing_status")

    # --- errors
    s.call("POST", "/v1/persons", {"email": "a@example.com"})                         # missing name
    s.call("POST", "/v1/persons", {"name": "A", "email": [                             # two primaries
        {"value": "a@example.com", "primary": True}, {"value": "b@example.com", "primary": True}]})
    s.call("POST", "/v1/persons", {"name": "A", "nmae": "typo"})                        # unknown key
    s.call("POST", "/v1/persons", {"name": "A", "primary_email": "a@example.com"})      # read-only key
    s.call("GET", "/v1/persons/999999")                                                 # unknown id
    s.call("POST", "/v1/persons", raw='{"name": "A",')                                  # bad JSON
    s.call("POST", "/v1/persons", raw="name=A", ctype="text/plain")                     # 415
    s.call("GET", "/v1/nothing-here")                                                   # unknown route
    s.call("PATCH", "/v1/persons")                                                      # 405
    s.call("GET", "/v1/persons?sort=" + q("shoe_size ASC"))                             # bad sort
    s.call("GET", "/v1/persons?limit=501")                                              # limit 501
    s.call("GET", "/v1/persons", token=None)                                            # no token
    s.call("GET", "/v1/persons", token="not-a-real-token-000")                          # bad token
    s.call("POST", "/api/v2/persons", {"name": "A", "color": "red"})                    # v2 unknown key
    s.call("POST", "/api/v2/persons", {"name": "A", "custom_fields": {
        "0123456789abcdef0123456789abcdef0123abcd": 1}})                                # unknown custom key
    s.call("PUT", f"/v1/persons/{p1}", {money_k: 5, money_k + "_currency": "EURO"})     # bad currency
    s.call("PUT", f"/v1/persons/{p1}", {"add_time": SEED_ADD_TIME})                     # add_time on update
    s.call("GET", "/api/v2/persons?cursor=bm90LWEtY3Vyc29y")                            # bad cursor
    s.call("PUT", f"/v1/persons/{p7}/merge", {"merge_with_id": p1})                     # merge a deleted one
    s.call("GET", f"/v1/personFields/{var_f['id']}")                                    # deleted field
    s.call("DELETE", "/v1/personFields")                                                # no ids


def add_jane(binary, db_url):
    out = subprocess.run([binary, "--database", db_url, "users", "add",
                          "--name", "Jane Doe", "--email", "jane@example.com"],
                         capture_output=True, text=True, env={**os.environ, "PIPESTACK_LOG": "warn"})
    if out.returncode != 0:
        raise RuntimeError(f"users add failed: {out.stdout}{out.stderr}")


def jane_id_of(server):
    req = urllib.request.Request(server.base + "/v1/users", headers={"x-api-token": TOKEN})
    with urllib.request.urlopen(req, timeout=30) as r:
        users = json.load(r)["data"]
    return next(u["id"] for u in users if u["email"] == "jane@example.com")


# ---------------------------------------------------------------------------------------------
# Normalization


HEX40 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{40}(?![0-9A-Fa-f])")
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?")
DATE = re.compile(r"(?<![0-9])\d{4}-\d{2}-\d{2}(?![0-9])")
EPOCH = re.compile(r"(?<![0-9.])(?:\d{10}|\d{13})(?![0-9.])")
CURSOR_IN_BODY = re.compile(r'("next_cursor"\s*:\s*")([^"]*)(")')
CURSOR_IN_PATH = re.compile(r"((?:^|[?&])cursor=)([^&#]*)")


class Normalizer:
    def __init__(self, todays, window):
        self.todays = todays
        self.window = window
        self.hexes = {}

    def _hex(self, m):
        h = m.group(0)
        if h == TOKEN:
            return "<TOKEN>"
        key = h.lower()
        if key not in self.hexes:
            self.hexes[key] = f"<HEX{len(self.hexes) + 1}>"
        return self.hexes[key]

    @staticmethod
    def _time(m):
        t = m.group(0)
        if t.replace("T", " ", 1)[:19] == SEED_ADD_TIME and t[19:] in ("", "Z", ".000Z", "+00:00"):
            return t
        return "<TIME>"

    def _date(self, m):
        return "<DATE>" if m.group(0) in self.todays else m.group(0)

    def _cursor(self, value):
        """The decoded, normalized form of a cursor, or None when it is not base64url JSON."""
        v = urllib.parse.unquote(value)
        try:
            decoded = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)).decode("utf-8")
            json.loads(decoded)
        except (ValueError, UnicodeDecodeError):
            return None
        return "<CURSOR " + self.plain(EPOCH.sub(self._epoch, decoded)) + ">"

    def _epoch(self, m):
        """A Unix time (seconds, or milliseconds) within a day or two of the run is a time."""
        v = int(m.group(0))
        secs = v / 1000 if len(m.group(0)) == 13 else v
        lo, hi = self.window
        return "<TIME>" if lo <= secs <= hi else m.group(0)

    def plain(self, text):
        text = TIMESTAMP.sub(self._time, text)
        text = DATE.sub(self._date, text)
        return HEX40.sub(self._hex, text)

    def body(self, text):
        out, last = [], 0
        for m in CURSOR_IN_BODY.finditer(text):
            out.append(self.plain(text[last:m.start(2)]))
            dec = self._cursor(m.group(2))
            out.append(dec if dec is not None else self.plain(m.group(2)))
            last = m.end(2)
        out.append(self.plain(text[last:]))
        return "".join(out)

    def path(self, text):
        def repl(m):
            dec = self._cursor(m.group(2))
            return m.group(1) + (dec if dec is not None else m.group(2))
        # cursors first (so their base64 is not scanned for hex/time), then the rest
        parts, last = [], 0
        for m in CURSOR_IN_PATH.finditer(text):
            parts.append(self.plain(text[last:m.start()]))
            parts.append(repl(m))
            last = m.end()
        parts.append(self.plain(text[last:]))
        return "".join(parts)


def todays():
    now = time.time()
    return {datetime.datetime.fromtimestamp(now, datetime.timezone.utc).date().isoformat(),
            datetime.date.fromtimestamp(now).isoformat()}


def render(entries, dates, window):
    n = Normalizer(dates, window)
    out = []
    for method, path, status, headers, payload in entries:
        out.append(f"### {method} {n.path(path)}\n")
        out.append(f"status: {status}\n")
        for name, value in headers:
            if name.lower() == "date":
                continue
            out.append(f"{name.lower()}: {n.plain(value)}\n")
        out.append("\n")
        text = payload.decode("utf-8", errors="backslashreplace")
        out.append(n.body(text))
        out.append("\n\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                   check=True, capture_output=True)


def with_database(url, name):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    binary, out_path = os.path.abspath(argv[1]), argv[2]
    pg_url = argv[3] if len(argv) == 4 else None
    workdir = tempfile.mkdtemp(prefix="pipestack-snap-")
    pg_db = None
    server = None
    try:
        if pg_url:
            pg_db = f"pipestack_snap_{os.getpid()}"
            psql(pg_url, f"DROP DATABASE IF EXISTS {pg_db}")
            psql(pg_url, f"CREATE DATABASE {pg_db}")
            db_url = with_database(pg_url, pg_db)
        else:
            db_url = f"sqlite://{workdir}/snap.db"
        dates = todays()
        started = time.time()
        server = Server(binary, db_url, workdir)
        server.start()          # bootstrap: company, admin with the fixed token
        server.stop()
        add_jane(binary, db_url)
        server.start()
        jane = jane_id_of(server)
        session = Session(server)
        scenario(session, jane)
        server.stop()
        dates |= todays()
        window = (started - 2 * 86400, time.time() + 2 * 86400)
        with open(out_path, "w", encoding="utf-8", newline="\n") as f:
            f.write(render(session.entries, dates, window))
        print(f"{len(session.entries)} requests -> {out_path}")
        return 0
    except BaseException:
        if server and server.log and os.path.exists(os.path.join(workdir, "server.log")):
            server.log.flush()
        sys.stderr.write(f"(server log kept in {workdir}/server.log)\n")
        workdir = None
        raise
    finally:
        if server:
            server.stop()
        if pg_db:
            psql(pg_url, f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
