#!/usr/bin/env python3
"""Data for ops/bench/scale.sh: every administered local government of the national
list as a tenant folder, and a million talents written straight into a SQLite database.

    python3 ops/bench/scale_data.py tenants LIST_TSV SEED_TENANTS_DIR OUT_DIR
    python3 ops/bench/scale_data.py talents DB_FILE --talents N --hash-from EMAIL
        --big SLUG --coordinator EMAIL [--seed S]
    python3 ops/bench/scale_data.py sign-in BASE_URL EMAIL PASSWORD

`tenants` writes one folder (tenant.toml and logo.svg) per administered entry of
crates/yui-domain/data/local_governments.tsv: the real code, name, kana and English
name; a municipality names its prefecture's folder as `parent`. Slugs are the list's
own suggestion (`LocalGov::suggested_slug`: the English name's first word), with the
prefecture's slug appended when two municipalities share one (伊達市 in Hokkaido and
Fukushima), and `lg-<code>` as the last resort. The repository's tenant folders are
copied in as they are and take the place of the list's entry with the same code (iwate,
ichinoseki, kamaishi), so their children point at their slug; a seed without a code
(the union amami) is added. Prints one line per folder, in the order to apply them
(prefectures, municipalities, unions), on stdout.

`talents` fills a database that `yui migrate` made and `yui tenant apply` filled with
the tenants, the way the app's own writes would leave it (accounts, talent profiles
with skills, interests, ties and the bit masks of recommendations, memberships with
the consent log's rows, and the bigram search index of yui_domain::search), in
transactions of 50,000 talents. Every account gets the password hash of the account
EMAIL (made by signing it up through the app), so any of them can sign in with that
password. Memberships are skewed like real populations: each talent joins one to
three regions drawn by Zipf's law over the tenants (BIG first, then the prefectures
by population, then the municipalities in a seeded order), so BIG has about an eighth
of all memberships and the smallest regions a hundred or so. Talent 1 (the one the
benchmark signs in) is a member of BIG and two more regions. COORDINATOR is made an
account with the same password (the script grants it the role). Prints timings and
counts as `key=value` lines on stdout.

`sign-in` signs EMAIL in on /signin (the form the page rendered) and prints the
session cookie as `name=value` for wrk's Cookie header.

Standard library only.
"""

import os
import random
import shutil
import sqlite3
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pages_tenants import colour, logo_svg, q  # noqa: E402

# Prefectures (JIS number) by population, largest first (2020 census order).
PREFECTURES_BY_POPULATION = [
    13, 14, 27, 23, 11, 12, 28, 1, 40, 22, 8, 34, 26, 20, 15, 9, 10, 33, 7, 21,
    24, 43, 42, 4, 38, 46, 3, 25, 2, 19, 6, 45, 47, 5, 37, 16, 35, 29, 17, 44,
    41, 30, 18, 39, 32, 36, 31,
]

# ------------------------------------------------------------------ tenants


def suggested_slug(name_en: str, code: str) -> str:
    """LocalGov::suggested_slug: the English name's first word, ASCII letters and
    digits, lower case; `lg-<code>` when that does not start with a letter."""
    first = name_en.split(" ")[0]
    word = "".join(c.lower() for c in first if c.isascii() and c.isalnum())[:32]
    return word if word[:1].isascii() and word[:1].isalpha() else f"lg-{code}"


def valid_slug(slug: str) -> bool:
    return (
        len(slug) <= 32
        and slug[:1].isascii()
        and slug[:1].islower()
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in slug)
        and not slug.endswith("-")
    )


def hiragana_only(kana: str) -> bool:
    return all("ぁ" <= c <= "ゖ" or c in "ー・　 " for c in kana)


def read_list(path: str):
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            code, kind, pref, name, kana, name_en, administered = line.rstrip("\n").split("\t")
            if administered == "yes":
                entries.append(
                    {"code": code, "kind": kind, "pref": pref, "ja": name, "kana": kana, "en": name_en}
                )
    return entries


def seed_tenants(seed_dir: str):
    """The repository's tenant folders: slug, kind and code read from tenant.toml."""
    seeds = []
    for slug in sorted(os.listdir(seed_dir)):
        path = os.path.join(seed_dir, slug, "tenant.toml")
        if not os.path.isfile(path):
            continue
        top = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("["):
                    break  # only the top-level keys
                if "=" in line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    top[k.strip()] = v.strip().strip('"')
        seeds.append({"slug": top["slug"], "kind": top["kind"], "code": top.get("code"), "dir": slug})
    return seeds


def tenant_toml(t: dict) -> str:
    intro_ja = (
        f"{t['ja']}は、都市部に暮らす複業人材と地域の企業・団体をつなぐ関係人口づくりに取り組んでいます。"
        "セミナーやフィールドワークで、地域の課題に一緒に向き合う仲間を募っています。"
    )
    intro_en = (
        f"{t['en']} connects urban professionals working side jobs with local companies and "
        "organizations, through seminars and fieldwork that tackle the region's challenges together."
    )
    lines = [
        "# A tenant of the scale check (ops/bench/scale.sh), made from the national list.",
        "version = 1",
        f"slug = {q(t['slug'])}",
        f"kind = {q(t['kind'])}",
        f"code = {q(t['code'])}",
    ]
    if t.get("parent"):
        lines.append(f"parent = {q(t['parent'])}")
    lines += [
        'default_locale = "ja"',
        "",
        "[name]",
        f"ja = {q(t['ja'])}",
        f"en = {q(t['en'])}",
        f"kana = {q(t['kana'])}",
        "",
        "[intro]",
        f"ja = {q(intro_ja)}",
        f"en = {q(intro_en)}",
        "",
        "[branding]",
        f"primary = {q(t['primary'])}",
        f"accent = {q(t['accent'])}",
        'logo = "logo.svg"',
        "",
        "[mail]",
        f"sender_name = {q(t['ja'] + ' 複業人材事業 事務局')}",
        f"sender_address = {q(t['slug'] + '@mail.yui.example')}",
        "",
        "[templates.seminar]",
        f"title = {{ ja = {q(t['ja'] + ' 複業セミナー')}, en = {q(t['en'] + ' side-job seminar')} }}",
        'format = "hybrid"',
        "capacity = 40",
        "days = 1",
        "",
        "[templates.lecture]",
        f"title = {{ ja = {q(t['ja'] + 'の地域課題を学ぶ講座')}, en = {q('Lecture: the challenges of ' + t['en'])} }}",
        'format = "online"',
        "capacity = 50",
        "days = 1",
        "",
        "[templates.fieldwork]",
        f"title = {{ ja = {q(t['ja'] + ' フィールドワーク')}, en = {q(t['en'] + ' fieldwork')} }}",
        'format = "onsite"',
        "capacity = 10",
        "days = 2",
        "",
        "[templates.matching_round]",
        "talent_preference_limit = 5",
        "host_preference_limit = 10",
        "project_capacity = 1",
        "",
    ]
    return "\n".join(lines)


def cmd_tenants(list_path: str, seed_dir: str, out: str) -> int:
    entries = read_list(list_path)
    seeds = seed_tenants(seed_dir)
    by_code = {s["code"]: s for s in seeds if s["code"]}
    slugs = {s["slug"] for s in seeds}
    pref_slug = {}
    order = {"prefecture": [], "municipality": [], "union": []}
    # Prefectures first: municipalities need their slugs.
    entries.sort(key=lambda e: (e["kind"] != "prefecture", e["code"]))
    for i, e in enumerate(entries):
        seed = by_code.get(e["code"])
        if seed:
            shutil.copytree(os.path.join(seed_dir, seed["dir"]), os.path.join(out, seed["slug"]))
            if e["kind"] == "prefecture":
                pref_slug[e["code"]] = seed["slug"]
            order[e["kind"]].append(seed["slug"])
            continue
        if not hiragana_only(e["kana"]):
            raise SystemExit(f"{e['code']}: kana {e['kana']!r} is not hiragana")
        slug = suggested_slug(e["en"], e["code"])
        if slug in slugs and e["kind"] == "municipality":
            slug = f"{slug}-{pref_slug[e['pref']]}"
        if slug in slugs or not valid_slug(slug):
            slug = f"lg-{e['code']}"
        slugs.add(slug)
        t = dict(e, slug=slug)
        if e["kind"] == "prefecture":
            pref_slug[e["code"]] = slug
        else:
            t["parent"] = pref_slug[e["pref"]]
        hue = (int(e["code"][:5]) * 47) % 360
        t["primary"] = colour(hue)
        t["accent"] = colour((hue + 150) % 360)
        folder = os.path.join(out, slug)
        os.makedirs(folder)
        with open(os.path.join(folder, "tenant.toml"), "w", encoding="utf-8") as f:
            f.write(tenant_toml(t))
        with open(os.path.join(folder, "logo.svg"), "w", encoding="utf-8") as f:
            f.write(logo_svg(t))
        order[e["kind"]].append(slug)
    for s in seeds:
        if not s["code"]:
            shutil.copytree(os.path.join(seed_dir, s["dir"]), os.path.join(out, s["slug"]))
            order["union"].append(s["slug"])
    for kind in ("prefecture", "municipality", "union"):
        for slug in order[kind]:
            print(os.path.join(out, slug))
    print(
        f"{len(order['prefecture'])} prefectures, {len(order['municipality'])} municipalities, "
        f"{len(order['union'])} unions ({len(by_code)} list entries replaced by seed folders)",
        file=sys.stderr,
    )
    return 0


# ------------------------------------------------------------------ talents

SKILLS = [
    ("sns", "SNS運用", "Social media"),
    ("pr", "広報・PR", "Public relations"),
    ("branding", "ブランディング", "Branding"),
    ("design", "デザイン", "Design"),
    ("photo_video", "写真・動画", "Photo and video"),
    ("web", "Web制作", "Web development"),
    ("ec", "EC", "E-commerce"),
    ("marketing", "マーケティング", "Marketing"),
    ("sales", "営業・販路開拓", "Sales and new markets"),
    ("product_development", "商品開発", "Product development"),
    ("tourism", "観光企画", "Tourism planning"),
    ("events", "イベント企画", "Event planning"),
    ("community", "コミュニティ運営", "Community management"),
    ("it_dx", "IT・DX", "IT and digital transformation"),
    ("finance", "財務・会計", "Finance and accounting"),
    ("succession", "事業承継", "Business succession"),
    ("hr", "人事・採用", "HR and recruiting"),
    ("translation", "翻訳・インバウンド", "Translation and inbound tourism"),
    ("agriculture", "農業", "Agriculture"),
    ("education", "教育", "Education"),
]
KINDS = ["business", "fan_community"]
TIE_KINDS = ["hometown", "former_resident", "connection", "fan"]
FAMILY = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("千葉", "チバ"), ("菊池", "キクチ"), ("及川", "オイカワ"), ("昆", "コン"), ("元", "ハジメ"),
]
GIVEN = [
    ("花子", "ハナコ"), ("太郎", "タロウ"), ("陽菜", "ヒナ"), ("蓮", "レン"), ("結衣", "ユイ"),
    ("大翔", "ヒロト"), ("美咲", "ミサキ"), ("健太", "ケンタ"), ("彩", "アヤ"), ("翔太", "ショウタ"),
    ("真由美", "マユミ"), ("誠", "マコト"), ("由美子", "ユミコ"), ("浩二", "コウジ"), ("葵", "アオイ"),
    ("拓也", "タクヤ"), ("七海", "ナナミ"), ("亮", "リョウ"), ("恵", "メグミ"), ("直樹", "ナオキ"),
]
FRAGMENTS = [
    "都内のメーカーで広報を担当しています",
    "農業法人の販路開拓を手伝った経験があります",
    "観光地のプロモーション動画を制作してきました",
    "事業承継の相談に税理士として関わっています",
    "地域の商品をECで販売する仕組みを作りました",
    "SNS運用とデザインで小さなお店を支援しています",
    "移住者のコミュニティづくりに興味があります",
    "漁業の六次産業化に関心があります",
    "黒糖焼酎のファンとして発信を続けています",
    "人事として採用広報を担当してきました",
    "教育の現場でICTの導入を進めてきました",
    "写真の撮影と編集が得意です",
    "地元の祭りやイベントを企画してきました",
    "財務と会計の知識で中小企業を支えています",
    "インバウンド向けの翻訳をしています",
    "Web制作会社でディレクターをしています",
    "商品開発のワークショップを開いてきました",
    "週末は実家の田んぼを手伝っています",
    "ブランディングの仕事を十年続けています",
    "IT導入でバックオフィスを効率化しました",
    "マーケティングの戦略づくりが専門です",
    "営業として地方の取引先を回ってきました",
    "ふるさとに恩返しがしたいと考えています",
    "オンラインで月に十時間ほど関われます",
]
# Where talents live: mostly in and around Tokyo, as the programs' talents do.
RESIDENCE = [13] * 6 + [14] * 3 + [11] * 2 + [12] * 2 + [27] * 2 + [23, 40, 1, 3, 4, 26, 28, 34]
BATCH = 50_000


def fold(text: str) -> str:
    """yui_domain::search::fold: NFKC, lower case, hiragana as katakana."""
    out = []
    for c in unicodedata.normalize("NFKC", text).lower():
        if "ぁ" <= c <= "ゖ":
            c = chr(ord(c) + 0x60)
        out.append(c)
    return "".join(out)


def index_tokens(text: str) -> list:
    """yui_domain::search::index_tokens: bigrams within runs of word characters, a run
    of one character as its own token."""
    tokens = []
    run = []
    for c in fold(text) + "\n":
        if c.isalnum() or c == "ー":
            run.append(c)
            continue
        if len(run) == 1:
            tokens.append(run[0])
        else:
            tokens.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
        run = []
    return tokens


def zipf_weights(n: int) -> list:
    total, cum = 0.0, []
    for r in range(n):
        total += 1.0 / (r + 1)
        cum.append(total)
    return cum


def cmd_talents(db: str, n: int, hash_from: str, big: str, coordinator: str, seed: int) -> int:
    started = time.monotonic()
    rng = random.Random(seed)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = DELETE")  # WAL would hold the whole fill twice
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -1000000")
    con.execute("PRAGMA temp_store = MEMORY")
    row = con.execute(
        "SELECT password_hash, created_at FROM accounts WHERE email_lower = ?",
        (hash_from.lower(),),
    ).fetchone()
    if row is None or row[0] is None:
        raise SystemExit(f"no account {hash_from} with a password to copy")
    pw_hash, ts = row[0], row[1]
    first_id = con.execute("SELECT MAX(id) FROM accounts").fetchone()[0] + 1

    tenants = dict(con.execute("SELECT slug, id FROM tenants"))
    consent = dict(con.execute("SELECT tenant_id, MAX(version) FROM tenant_consents GROUP BY tenant_id"))
    if big not in tenants:
        raise SystemExit(f"no tenant {big}")
    prefs = dict(
        con.execute("SELECT substr(code, 1, 2) + 0, id FROM tenants WHERE kind = 'prefecture'")
    )
    ranked = [tenants[big]]
    ranked += [prefs[p] for p in PREFECTURES_BY_POPULATION if p in prefs and prefs[p] != tenants[big]]
    rest = sorted(set(tenants.values()) - set(ranked))
    random.Random(seed + 1).shuffle(rest)
    ranked += rest
    missing = [t for t in ranked if t not in consent]
    if missing:
        raise SystemExit(f"{len(missing)} tenants have no consent wording")
    cum = zipf_weights(len(ranked))

    skill_tokens = [index_tokens(ja) + index_tokens(en) for _, ja, en in SKILLS]
    family_tokens = [(index_tokens(k), index_tokens(r)) for k, r in FAMILY]
    given_tokens = [(index_tokens(k), index_tokens(r)) for k, r in GIVEN]
    fragment_tokens = [index_tokens(f) for f in FRAGMENTS]

    counts = dict.fromkeys(
        ["accounts", "skills", "interests", "ties", "memberships", "consent_log"], 0
    )
    big_members = 0
    i = 0
    while i < n:
        end = min(i + BATCH, n)
        accounts, profiles, skills, interests, ties = [], [], [], [], []
        members, log, search = [], [], []
        for k in range(i, end):
            aid = first_id + k
            f, g = rng.randrange(len(FAMILY)), rng.randrange(len(GIVEN))
            name = f"{FAMILY[f][0]} {GIVEN[g][0]}"
            kana = f"{FAMILY[f][1]} {GIVEN[g][1]}"
            locale = "en" if rng.random() < 0.05 else "ja"
            accounts.append((aid, f"talent{k + 1:07d}@scale.yui.example", name, pw_hash, ts, locale, ts))
            frags = rng.sample(range(len(FRAGMENTS)), 3)
            summary = "".join(FRAGMENTS[x] + "。" for x in frags)
            chosen = rng.sample(range(len(SKILLS)), rng.choice((1, 1, 2, 2, 3, 4)))
            kinds = rng.choice(([0], [1], [0, 1]))
            tie_prefs = rng.sample(range(1, 48), rng.choice((0, 1, 1, 2)))
            pool = rng.random() < 0.3
            public_servant = rng.random() < 0.05
            profiles.append((
                aid, kana, rng.choice(RESIDENCE), summary,
                rng.choice((5, 10, 10, 20, 30, 40)),
                rng.choice(("remote", "remote", "either", "onsite")),
                rng.choice(("pro_bono", "expenses", "honorarium", "contract")),
                int(public_servant), "granted" if public_servant else None,
                ts if pool else None, ts, ts,
                sum(1 << s for s in chosen), sum(1 << x for x in kinds), sum(1 << p for p in tie_prefs),
            ))
            skills.extend((SKILLS[s][0], aid) for s in chosen)
            interests.extend(("project_kind", KINDS[x], aid) for x in kinds)
            ties.extend((p, rng.choice(TIE_KINDS), aid) for p in tie_prefs)
            # search_text: name, kana, skills in both languages, (no industries or
            # tags here), then the summary; the lines are runs of their own.
            toks = family_tokens[f][0] + given_tokens[g][0] + family_tokens[f][1] + given_tokens[g][1]
            for s in chosen:
                toks += skill_tokens[s]
            for x in frags:
                toks += fragment_tokens[x]
            search.append((aid, " ".join(toks)))
            if k == 0:
                regions = {ranked[0], ranked[min(1, len(ranked) - 1)], ranked[min(100, len(ranked) - 1)]}
            else:
                regions = set(rng.choices(ranked, cum_weights=cum, k=rng.choice((1, 1, 1, 2, 2, 3))))
            for t in regions:
                hosts = rng.random() < 0.5
                members.append((t, aid, consent[t], ts, ts if hosts else None, ts))
                log.append((t, aid, consent[t], "staff", ts))
                if hosts:
                    log.append((t, aid, consent[t], "hosts", ts))
                big_members += t == ranked[0]
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO accounts (id, email, email_lower, display_name, password_hash, email_verified_at, locale, created_at, updated_at)"
            " VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            accounts,
        )
        con.executemany(
            "INSERT INTO talent_profiles (account_id, kana, residence, summary, hours_per_month, work_style, compensation,"
            " public_servant, side_job_permission, pool_opt_in_at, created_at, updated_at, skill_mask, kind_mask, tie_mask)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            profiles,
        )
        con.executemany("INSERT INTO talent_skills (skill, account_id) VALUES (?, ?)", skills)
        con.executemany("INSERT INTO talent_interests (kind, code, account_id) VALUES (?, ?, ?)", interests)
        con.executemany("INSERT INTO talent_ties (prefecture, kind, account_id) VALUES (?, ?, ?)", ties)
        con.executemany(
            "INSERT INTO memberships (tenant_id, account_id, consent_version, consented_at, hosts_since, joined_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            members,
        )
        con.executemany(
            "INSERT INTO consent_log (tenant_id, account_id, consent_version, scope, action, at)"
            " VALUES (?, ?, ?, ?, 'given', ?)",
            log,
        )
        con.executemany("INSERT INTO talent_search (rowid, tokens) VALUES (?, ?)", search)
        con.execute("COMMIT")
        counts["accounts"] += len(accounts)
        counts["skills"] += len(skills)
        counts["interests"] += len(interests)
        counts["ties"] += len(ties)
        counts["memberships"] += len(members)
        counts["consent_log"] += len(log)
        i = end
        print(f"  {end:,} talents ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    inserted = time.monotonic() - started

    # The coordinator: an account with the same password, no talent profile.
    con.execute(
        "INSERT INTO accounts (id, email, email_lower, display_name, password_hash, email_verified_at, locale, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, 'スケール 事務局', ?4, ?5, 'ja', ?5, ?5)",
        (first_id + n, coordinator, coordinator.lower(), pw_hash, ts),
    )
    # FTS5 merges its segments as it goes; one merge leaves the index as a long-lived
    # one would be. ANALYZE gives the planner the statistics a live database has.
    t = time.monotonic()
    con.execute("INSERT INTO talent_search (talent_search) VALUES ('optimize')")
    optimize = time.monotonic() - t
    t = time.monotonic()
    con.execute("ANALYZE")
    analyze = time.monotonic() - t
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    print(f"insert_s={inserted:.1f}")
    print(f"optimize_s={optimize:.1f}")
    print(f"analyze_s={analyze:.1f}")
    for k, v in counts.items():
        print(f"{k}={v}")
    print(f"big_members={big_members}")
    print(f"first_talent=talent0000001@scale.yui.example")
    return 0


# ------------------------------------------------------------------ sign-in


def cmd_sign_in(base: str, email: str, password: str) -> int:
    import http.cookiejar
    import urllib.parse
    import urllib.request

    from events_setup import Browser

    jar = http.cookiejar.CookieJar()
    b = Browser(base)
    b.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = b.form("/signin", "/signin")
    status, url, _ = b.submit(form, email=email, password=password)
    if status != 200 or urllib.parse.urlparse(url).path == "/signin":
        raise SystemExit(f"{email} could not sign in (answer {status} at {url})")
    print("; ".join(f"{c.name}={c.value}" for c in jar))
    return 0


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["tenants"] and len(args) == 4:
        return cmd_tenants(*args[1:])
    if args[:1] == ["sign-in"] and len(args) == 4:
        return cmd_sign_in(*args[1:])
    if args[:1] == ["talents"] and len(args) >= 2:
        opts = dict(zip(args[2::2], args[3::2]))
        try:
            return cmd_talents(
                args[1],
                int(opts["--talents"]),
                opts["--hash-from"],
                opts["--big"],
                opts["--coordinator"],
                int(opts.get("--seed", "2026")),
            )
        except KeyError as e:
            print(f"talents: {e.args[0]} is required", file=sys.stderr)
            return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
