#!/usr/bin/env python3
"""Prepares a running `yui serve --demo` for ops/bench/events.sh: the people, their API
tokens and the events the registration benchmark posts to. Nothing here is timed.

    python3 ops/bench/events_setup.py BASE_URL OUT_DIR [--talents N] [--events E]
        [--capacity C] [--page-slug SLUG] [--tenant SLUG] [--threads T]

Everything goes through the pages and the JSON API as a person or another program would:

1. The tenant's administrator (admin@<tenant>.demo.yui.example) signs in on /signin (the
   form the page rendered, with its CSRF token) and creates a personal API token for the
   tenant on /account/tokens (the form that page rendered).
2. The event page to measure: the first published upcoming event of PAGE_SLUG in the
   public list `GET /api/v1/tenants/{slug}/events`. When the demo has none, one is created
   with the administrator's token (and the output says so).
3. N demo talents (talent001@demo.yui.example ...) sign in and create a token for the
   tenant the same way, T at a time (sign-in hashes the password on purpose: slow).
4. E onsite events of C seats each through `POST /api/v1/tenants/{tenant}/events`.

Writes OUT_DIR/tokens.txt (one talent token a line, talent001 first) and
OUT_DIR/events.txt (one event id a line, in creation order), and prints one JSON line
on stdout: {"page": "/t/...", "page_event": id, "page_event_created": bool, ...}.
Progress goes to stderr. Standard library only.
"""

import argparse
import datetime
import http.cookiejar
import json
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

PASSWORD = "yui-demo-2026"
JST = datetime.timezone(datetime.timedelta(hours=9))


class Forms(HTMLParser):
    """The forms of a page: action, method, and the fields as a browser would send them
    (inputs with their values, each select's selected or first option, and the options
    every select offers)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": {},
                "options": {},
            }
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["options"][self._select] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["options"][self._select].append(value)
            if "selected" in a or self._select not in self._form["fields"]:
                self._form["fields"][self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


class Browser:
    """One person's cookies and requests against BASE."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, method, path, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, method=method)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=120) as res:
                return res.status, res.geturl(), res.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.geturl(), e.read().decode("utf-8", "replace")

    def form(self, path, action):
        status, _, html = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        p = Forms()
        p.feed(html)
        for f in p.forms:
            if f["action"] == action and f["method"] == "post":
                return f
        raise RuntimeError(f"GET {path} rendered no form posting to {action}")

    def submit(self, form, **values):
        fields = dict(form["fields"])
        for k, v in values.items():
            if k not in fields:
                raise RuntimeError(f"the form {form['action']} has no field {k}")
            if k in form["options"] and v not in form["options"][k]:
                raise RuntimeError(
                    f"the form {form['action']} offers no {v!r} for {k} "
                    f"(it offers {form['options'][k]})"
                )
            fields[k] = v
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST",
            form["action"],
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def sign_in(self, email):
        form = self.form("/signin", "/signin")
        status, url, _ = self.submit(form, email=email, password=PASSWORD)
        if status != 200 or urllib.parse.urlparse(url).path == "/signin":
            raise RuntimeError(f"{email} could not sign in (answer {status} at {url})")

    def new_token(self, tenant, name):
        form = self.form("/account/tokens", "/account/tokens")
        if tenant not in form["options"].get("tenant", []):
            raise RuntimeError(
                f"/account/tokens offers no token for {tenant!r} "
                f"(it offers {form['options'].get('tenant', [])})"
            )
        status, _, html = self.submit(form, token_name=name, tenant=tenant)
        if status != 201:
            raise RuntimeError(f"creating a token answered {status}")
        p = TokenValue()
        p.feed(html)
        if not p.value:
            raise RuntimeError("the token page shows no new token")
        return p.value

    def api(self, method, path, token=None, body=None):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, _, text = self.request(method, path, data, headers)
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text


class TokenValue(HTMLParser):
    """The new token the page shows once, in its read-only field #new-token."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.value = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("id") == "new-token":
            self.value = a.get("value")


def event_body(title, starts, capacity):
    return {
        "kind": "seminar",
        "title": {"ja": title, "en": title},
        "starts_at": starts.isoformat(),
        "ends_at": (starts + datetime.timedelta(hours=2)).isoformat(),
        "format": "onsite",
        "capacity": {"onsite": capacity},
        "selection": "first_come",
        "venue": "ベンチマーク会場",
    }


def create_event(browser, tenant, token, body):
    status, v = browser.api("POST", f"/api/v1/tenants/{tenant}/events", token, body)
    if status != 201:
        raise RuntimeError(f"POST /api/v1/tenants/{tenant}/events answered {status}: {v}")
    return v["id"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("--talents", type=int, default=300)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--capacity", type=int, default=150)
    ap.add_argument("--tenant", default="iwate")
    ap.add_argument("--page-slug", default="iwate")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    if not 1 <= args.talents <= 300:
        sys.exit("--talents: the demo has talent001 ... talent300")
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    staff = Browser(args.base)
    admin = f"admin@{args.tenant}.demo.yui.example"
    log(f"signing in {admin} and creating a staff token...")
    staff.sign_in(admin)
    staff_token = staff.new_token(args.tenant, "events bench (staff)")

    now = datetime.datetime.now(JST)
    status, listed = staff.api("GET", f"/api/v1/tenants/{args.page_slug}/events")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/tenants/{args.page_slug}/events answered {status}")
    upcoming = [
        e for e in listed if datetime.datetime.fromisoformat(e["starts_at"]) > now
    ]
    page_created = False
    if upcoming:
        page_event = upcoming[0]["id"]
        page_slug = args.page_slug
    else:
        # The demo has no upcoming event here: one like a regular seminar, in the
        # tenant the staff token belongs to.
        page_slug = args.tenant
        page_event = create_event(
            staff,
            args.tenant,
            staff_token,
            event_body("複業セミナー（ベンチマーク）", now + datetime.timedelta(days=30), 40),
        )
        page_created = True
    log(f"event page: /t/{page_slug}/events/{page_event}"
        + (" (created: the demo lists no upcoming event)" if page_created else ""))

    tokens = [None] * args.talents
    errors = []
    next_n = iter(range(args.talents))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                n = next(next_n, None)
                if n is None or errors:
                    return
            email = f"talent{n + 1:03d}@demo.yui.example"
            try:
                b = Browser(args.base)
                b.sign_in(email)
                tokens[n] = b.new_token(args.tenant, "events bench")
            except Exception as e:  # noqa: BLE001 - reported below, the run stops
                with lock:
                    errors.append(f"{email}: {e}")
                return

    log(f"signing in {args.talents} talents and creating their tokens ({args.threads} at a time)...")
    t0 = datetime.datetime.now()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    log(f"  {args.talents} tokens in {(datetime.datetime.now() - t0).total_seconds():.1f} s")

    log(f"creating {args.events} events of {args.capacity} onsite seats...")
    starts = now.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=60)
    events = [
        create_event(
            staff,
            args.tenant,
            staff_token,
            event_body(f"ベンチマーク用セミナー {i + 1}", starts + datetime.timedelta(hours=i % 8), args.capacity),
        )
        for i in range(args.events)
    ]

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokens.txt"), "w") as f:
        f.write("\n".join(tokens) + "\n")
    with open(os.path.join(args.out, "events.txt"), "w") as f:
        f.write("\n".join(str(e) for e in events) + "\n")
    print(json.dumps({
        "page": f"/t/{page_slug}/events/{page_event}",
        "page_event": page_event,
        "page_event_created": page_created,
        "talents": args.talents,
        "events": len(events),
        "capacity": args.capacity,
    }))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"events_setup: {e}", file=sys.stderr)
        sys.exit(1)
