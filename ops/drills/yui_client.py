#!/usr/bin/env python3
"""What the drills do to Yui over HTTP, as people and programs do: sign in with the
demo's accounts, make personal API tokens on /account/tokens, create events and
register talents for them through the JSON API. Standard library only.

  yui_client.py token BASE EMAIL PASSWORD TENANT      -> prints a new API token
  yui_client.py events BASE TOKEN TENANT N            -> creates N online events, prints ids
  yui_client.py load BASE TENANT TOKENS EVENTS OUT STOP
      registers every talent (a file of tokens, one a line) for every event (ids, one
      a line) with 4 clients in parallel, until STOP exists or every pair is done.
      OUT gets one line per acknowledged (201) registration: "<id> <event> <talent#>";
      a summary line goes to stderr at the end.
"""

import datetime
import html
import http.cookiejar
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browser():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), NoRedirect()
    )


def fetch(opener, url, data=None, headers=None, method=None, timeout=10):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=timeout) as res:
            return res.status, res.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def csrf_of(page):
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    if not m:
        raise SystemExit("no CSRF field on the page")
    return html.unescape(m.group(1))


def token(base, email, password, tenant):
    b = browser()
    status, page = fetch(b, f"{base}/signin")
    form = {"csrf": csrf_of(page), "email": email, "password": password, "next": ""}
    status, page = fetch(b, f"{base}/signin", urllib.parse.urlencode(form).encode())
    if status != 303:
        raise SystemExit(f"signing in as {email}: HTTP {status}")
    status, page = fetch(b, f"{base}/account/tokens")
    form = {"csrf": csrf_of(page), "token_name": "drill", "tenant": tenant}
    status, page = fetch(b, f"{base}/account/tokens", urllib.parse.urlencode(form).encode())
    m = re.search(r'id="new-token"[^>]*value="([^"]+)"', page)
    if not m:
        raise SystemExit(f"no token for {email}: HTTP {status}")
    return html.unescape(m.group(1))


def api(base, token, method, path, body=None, key=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    return fetch(urllib.request.build_opener(), base + path, data, headers, method, timeout=5)


def events(base, token, tenant, n):
    # Ten in the morning in Japan, so an event never runs past midnight there (a
    # second day is a different thing to the API).
    jst = datetime.timezone(datetime.timedelta(hours=9))
    day = datetime.datetime.now(jst).date() + datetime.timedelta(days=30)
    starts = datetime.datetime(day.year, day.month, day.day, 10, tzinfo=jst)
    ids = []
    for i in range(n):
        s = starts + datetime.timedelta(days=i)
        body = {
            "kind": "seminar",
            "title": {"ja": f"訓練用セミナー {i + 1}", "en": f"Drill seminar {i + 1}"},
            "starts_at": s.isoformat(),
            "ends_at": (s + datetime.timedelta(hours=2)).isoformat(),
            "format": "online",
            "capacity": {"online": 1000},
            "selection": "first_come",
            "online_url": "https://meet.example.jp/drill",
        }
        status, text = api(base, token, "POST", f"/api/v1/tenants/{tenant}/events", body)
        if status != 201:
            raise SystemExit(f"creating an event: HTTP {status} {text}")
        ids.append(json.loads(text)["id"])
    return ids


def load(base, tenant, tokens_file, events_file, out_file, stop_file):
    tokens = [t.strip() for t in open(tokens_file, encoding="utf-8") if t.strip()]
    event_ids = [e.strip() for e in open(events_file, encoding="utf-8") if e.strip()]
    # Event by event, so every talent has work at every moment.
    pairs = [(e, t) for e in event_ids for t in range(len(tokens))]
    lock = threading.Lock()
    state = {"next": 0, "acked": 0, "failed": 0}
    out = open(out_file, "a", encoding="utf-8", buffering=1)

    def worker():
        while not os.path.exists(stop_file):
            with lock:
                if state["next"] >= len(pairs):
                    return
                event, talent = pairs[state["next"]]
                state["next"] += 1
            key = f"drill-{event}-{talent}"
            path = f"/api/v1/tenants/{tenant}/events/{event}/registrations"
            # Retried with the same key until it is acknowledged: a registration
            # whose answer was lost in the failover is then either found again
            # (same key, same registration) or made now.
            while not os.path.exists(stop_file):
                try:
                    status, text = api(base, tokens[talent], "POST", path, {}, key)
                except (OSError, urllib.error.URLError):
                    status, text = 0, ""
                if status == 201:
                    reg = json.loads(text)["id"]
                    with lock:
                        state["acked"] += 1
                        out.write(f"{reg} {event} {talent}\n")
                    break
                with lock:
                    state["failed"] += 1
                time.sleep(0.2)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(
        f"load: {state['acked']} registrations acknowledged, {state['failed']} attempts failed",
        file=sys.stderr,
    )


def main(argv):
    if len(argv) >= 6 and argv[1] == "token":
        print(token(argv[2], argv[3], argv[4], argv[5]))
    elif len(argv) >= 6 and argv[1] == "events":
        for i in events(argv[2], argv[3], argv[4], int(argv[5])):
            print(i)
    elif len(argv) >= 8 and argv[1] == "load":
        load(*argv[2:8])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
