//! The demo's programs and events: the seeds' real schedules (Iwate FY2025, the
//! Ichinoseki and Kamaishi FY2019 schedule, Amami's FY2024 seminars) with their
//! registrations and attendance, and upcoming events dated from the load day so a
//! demo always has something open. Every seat move goes through the store's locked
//! registration, so the counters are those real registrations would leave.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::RngCore;
use yui_domain::checkin::CheckinCode;
use yui_domain::event::question::{Answer, Answers, Question, QuestionKind};
use yui_domain::event::{
    EventFields, EventInput, EventStatus, SeatKind, TravelSubsidy, check_event_edit,
};
use yui_domain::fiscal::tokyo;
use yui_domain::program::{FieldworkRule, ProgramFields, ProgramInput};
use yui_domain::registration::RegistrationStatus;
use yui_domain::{AccountId, EventId, FiscalYear, ProgramId, RegistrationId};
use yui_store::{AccountsTx, NewRegistration, PlatformReason, Registered, Store, TenantTx};

/// The program each tenant's events belong to, one per fiscal year:
/// (tenant, name ja, name en, field-work rule).
const PROGRAMS: &[(&str, &str, &str, FieldworkRule)] = &[
    // Iwate weighs field work before matching (seed 001's lesson).
    (
        "iwate",
        "遠恋複業",
        "Enren Fukugyo",
        FieldworkRule::Preferred,
    ),
    // The 2019 schedule matched people after the on-site practice (seed 002).
    (
        "ichinoseki",
        "関係人口創出事業",
        "Kankei Jinko program",
        FieldworkRule::Preferred,
    ),
    (
        "kamaishi",
        "関係人口創出事業",
        "Kankei Jinko program",
        FieldworkRule::Preferred,
    ),
    (
        "amami",
        "副業・兼業人材活用実証事業",
        "Side-job talent pilot",
        FieldworkRule::Open,
    ),
];

/// An event day: a date of the seeds, or so many days after the load day (Tokyo).
#[derive(Clone, Copy)]
enum On {
    Date(i32, u32, u32),
    After(u64),
}

struct Day {
    on: On,
    starts: &'static str,
    ends: &'static str,
    itinerary: &'static str,
}

const fn day(on: On, starts: &'static str, ends: &'static str) -> Day {
    Day {
        on,
        starts,
        ends,
        itinerary: "",
    }
}

/// A question on a form; choices one a line.
struct Q {
    label: &'static str,
    kind: QuestionKind,
    options: &'static str,
    required: bool,
}

/// Who registers, by demo talent number from `first`: so many for each kind of seat
/// (beyond the seats they wait), then of those registered, the last `pending` left
/// for a coordinator to screen and the `declined` before them turned down, the first
/// `cancelled` cancelling themselves, and of those who came to a past event, the last
/// `no_shows` never checking in.
#[derive(Clone, Copy, Default)]
struct Crowd {
    first: usize,
    onsite: usize,
    online: usize,
    pending: usize,
    declined: usize,
    cancelled: usize,
    no_shows: usize,
}

struct Spec {
    tenant: &'static str,
    kind: &'static str,
    audience: &'static str,
    format: &'static str,
    selection: &'static str,
    title: &'static str,
    title_en: &'static str,
    description: &'static str,
    days: &'static [Day],
    /// Seats per kind; 0 where the format offers none.
    onsite: u32,
    online: u32,
    venue: &'static str,
    address: &'static str,
    online_url: &'static str,
    /// Travel support up to this amount per participant; 0 for none.
    subsidy_up_to: u64,
    questions: &'static [Q],
    logistics: &'static [Q],
    crowd: Crowd,
}

/// The defaults every spec below starts from (`..BASE`).
const BASE: Spec = Spec {
    tenant: "iwate",
    kind: "seminar",
    audience: "talent",
    format: "onsite",
    selection: "first_come",
    title: "",
    title_en: "",
    description: "",
    days: &[],
    onsite: 0,
    online: 0,
    venue: "",
    address: "",
    online_url: "",
    subsidy_up_to: 0,
    questions: &[],
    logistics: &[],
    crowd: Crowd {
        first: 1,
        onsite: 0,
        online: 0,
        pending: 0,
        declined: 0,
        cancelled: 0,
        no_shows: 0,
    },
};

const HOW_HEARD: Q = Q {
    label: "遠恋複業を何で知りましたか",
    kind: QuestionKind::Choice,
    options: "SNS\n知人の紹介\n岩手県のウェブサイト\nその他",
    required: false,
};

// Where the seeds are silent (times, seats, venues inside a city), the values below
// are plausible choices for a demo, marked "not in the seeds".
const SPECS: &[Spec] = &[
    // ── Iwate FY2025 (seed 001, 図表4) ──
    Spec {
        title: "地方複業のはじめかた",
        title_en: "Starting a side job in the regions",
        description: "今いる場所から始める、地域との協働の話。講師：株式会社ATOMica KOMMONSカンパニー CEO 白塚 湧士 氏。",
        format: "online",
        days: &[day(On::Date(2025, 8, 25), "19:00", "20:00")],
        // Seats: not in the seeds.
        online: 100,
        online_url: "https://online.yui.example/iwate/2025-08-25",
        questions: &[HOW_HEARD],
        crowd: Crowd {
            first: 1,
            online: 24,
            cancelled: 1,
            no_shows: 3,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        kind: "fieldwork",
        selection: "screened",
        title: "岩手・花巻で ブドウ収穫体験フィールドワーク",
        title_en: "Grape harvest field work in Hanamaki, Iwate",
        description: "花巻でブドウの収穫を体験し、地域の魅力と事業者の課題に触れます。",
        // Times, seats and the venue within Hanamaki: not in the seeds (the town of
        // Ōhasama is where seed 000's grape growers are).
        days: &[day(On::Date(2025, 10, 19), "10:00", "16:00")],
        onsite: 15,
        venue: "花巻市大迫町のぶどう園",
        address: "岩手県花巻市大迫町",
        crowd: Crowd {
            first: 30,
            onsite: 14,
            declined: 2,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        kind: "fieldwork",
        selection: "screened",
        title: "地域と温泉を楽しみながら考える 遠恋複業フィールドワーク",
        title_en: "Enren Fukugyo field work at a hot spring: Getō, Kitakami",
        description: "北上市・夏油温泉観光ホテルを舞台にした2日間。地域創生や複業に関心のある方、温泉地や伝統文化に触れながら学びたい方に。",
        // Hours: not in the seeds; the programme items are, split over the two days.
        days: &[
            Day {
                itinerary: "夏油温泉観光ホテルの事業継承ストーリー\n伝統芸能「鬼剣舞」学びの時間",
                ..day(On::Date(2025, 11, 8), "13:00", "18:00")
            },
            Day {
                itinerary: "地域課題に取り組むグループワーク\n地元の方々との交流とアイデア発表",
                ..day(On::Date(2025, 11, 9), "09:00", "15:00")
            },
        ],
        onsite: 15,
        venue: "夏油温泉観光ホテル",
        address: "岩手県北上市",
        // The seeds name no travel subsidy for this tour.
        crowd: Crowd {
            first: 50,
            onsite: 12,
            declined: 1,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    // ── Ichinoseki and Kamaishi FY2019 (seed 002, (4) スケジュール) ──
    // The seed's weekdays do not match the 2019 calendar (9/5 was a Thursday); the
    // dates are kept. The open seminar recruited for both cities, so each city's
    // program lists it. Seed 002 gives each city two of the four lectures without
    // saying which: they alternate here. Hours, seats and venues: not in the seeds.
    Spec {
        tenant: "ichinoseki",
        title: "オープンセミナー（首都圏説明会）",
        title_en: "Open seminar in Tokyo",
        description: "一関市・釜石市の企業と複業で協働するプログラムの説明会。",
        days: &[day(On::Date(2019, 9, 5), "19:00", "21:00")],
        onsite: 40,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 100,
            onsite: 12,
            no_shows: 2,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "kamaishi",
        title: "オープンセミナー（首都圏説明会）",
        title_en: "Open seminar in Tokyo",
        description: "一関市・釜石市の企業と複業で協働するプログラムの説明会。",
        days: &[day(On::Date(2019, 9, 5), "19:00", "21:00")],
        onsite: 40,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 112,
            onsite: 10,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "ichinoseki",
        kind: "lecture",
        title: "講座① 一関市の地域課題と求められる人材",
        title_en: "Lecture 1: Ichinoseki's challenges and the people it needs",
        days: &[day(On::Date(2019, 9, 21), "14:00", "17:00")],
        onsite: 30,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 100,
            onsite: 9,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "kamaishi",
        kind: "lecture",
        title: "講座② 釜石市の地域課題と求められる人材",
        title_en: "Lecture 2: Kamaishi's challenges and the people it needs",
        days: &[day(On::Date(2019, 10, 16), "19:00", "21:00")],
        onsite: 30,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 112,
            onsite: 8,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "ichinoseki",
        kind: "fieldwork",
        selection: "screened",
        title: "地域協働実践活動（一関）",
        title_en: "On-site practice in Ichinoseki",
        days: &[
            day(On::Date(2019, 11, 3), "10:00", "17:00"),
            day(On::Date(2019, 11, 4), "09:00", "15:00"),
        ],
        onsite: 10,
        venue: "一関市内の受入企業",
        address: "岩手県一関市",
        crowd: Crowd {
            first: 100,
            onsite: 7,
            declined: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "kamaishi",
        kind: "fieldwork",
        selection: "screened",
        title: "地域協働実践活動（釜石）",
        title_en: "On-site practice in Kamaishi",
        days: &[
            day(On::Date(2019, 11, 10), "10:00", "17:00"),
            day(On::Date(2019, 11, 11), "09:00", "15:00"),
        ],
        onsite: 10,
        venue: "釜石市内の受入企業",
        address: "岩手県釜石市",
        crowd: Crowd {
            first: 112,
            onsite: 6,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "ichinoseki",
        kind: "lecture",
        title: "講座③ 一関市の企業と描く複業",
        title_en: "Lecture 3: side jobs with Ichinoseki's companies",
        days: &[day(On::Date(2019, 11, 22), "19:00", "21:00")],
        onsite: 30,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 100,
            onsite: 6,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "kamaishi",
        kind: "lecture",
        title: "講座④ 釜石市の企業と描く複業",
        title_en: "Lecture 4: side jobs with Kamaishi's companies",
        days: &[day(On::Date(2019, 12, 11), "19:00", "21:00")],
        onsite: 30,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 112,
            onsite: 6,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    // ── Amami FY2024 (seed 003): seminars for the islands' companies ──
    // 定員20名 is read as the room's: 20 on site, and the stream offers as many so
    // the demo shows both kinds of seat. The demo's Amami hosts have no member
    // accounts, so demo talents stand in for the companies' people.
    Spec {
        tenant: "amami",
        audience: "hosts",
        format: "hybrid",
        title: "副業・兼業人材活用セミナー（第1回）",
        title_en: "Working with side-job professionals (1)",
        description: "第一部：副業人材について\n第二部：副業人材活用企業とのトークセッション、個別相談",
        days: &[day(On::Date(2024, 11, 12), "16:30", "18:00")],
        onsite: 20,
        online: 20,
        venue: "アマホームPLAZA 中多目的室（奄美市市民交流センター）",
        address: "鹿児島県奄美市",
        online_url: "https://online.yui.example/amami/2024-11-12",
        crowd: Crowd {
            first: 200,
            onsite: 11,
            online: 7,
            no_shows: 2,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        tenant: "amami",
        audience: "hosts",
        format: "hybrid",
        title: "副業・兼業人材活用セミナー（第2回）",
        title_en: "Working with side-job professionals (2)",
        description: "第一部：副業人材について\n第二部：副業人材活用企業とのトークセッション、個別相談",
        days: &[day(On::Date(2024, 12, 11), "15:00", "16:30")],
        onsite: 20,
        online: 20,
        venue: "アマホームPLAZA 中多目的室（奄美市市民交流センター）",
        address: "鹿児島県奄美市",
        online_url: "https://online.yui.example/amami/2024-12-11",
        crowd: Crowd {
            first: 220,
            onsite: 9,
            online: 6,
            no_shows: 1,
            ..BASE.crowd
        },
        ..BASE
    },
    // ── Iwate, upcoming: open for registration whenever the demo is loaded ──
    Spec {
        title: "遠恋複業 オンライン説明会",
        title_en: "Enren Fukugyo online briefing",
        description: "遠恋複業の仕組みと、これまでのマッチング事例を紹介します。",
        format: "online",
        days: &[day(On::After(10), "19:00", "20:00")],
        online: 100,
        online_url: "https://online.yui.example/iwate/briefing",
        questions: &[HOW_HEARD],
        crowd: Crowd {
            first: 70,
            online: 18,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        audience: "hosts",
        title: "複業人材受入セミナー（企業・団体向け）",
        title_en: "Seminar for host organizations: working with side-job talent",
        description: "受入れのポイントと県内の成功事例を紹介します。",
        days: &[day(On::After(15), "14:00", "16:00")],
        onsite: 30,
        venue: "岩手県内の会場",
        address: "岩手県盛岡市",
        ..BASE
    },
    Spec {
        format: "hybrid",
        title: "遠恋複業セミナー 岩手の企業と話そう",
        title_en: "Enren Fukugyo seminar: meet Iwate's companies",
        description: "県内の受入企業が課題を話し、参加者と語り合います。",
        days: &[day(On::After(20), "19:00", "21:00")],
        onsite: 40,
        online: 60,
        venue: "東京都内の会場",
        address: "東京都",
        online_url: "https://online.yui.example/iwate/meet",
        questions: &[Q {
            label: "終了後の交流会に参加しますか",
            kind: QuestionKind::YesNo,
            options: "",
            required: true,
        }],
        crowd: Crowd {
            first: 90,
            onsite: 12,
            online: 15,
            ..BASE.crowd
        },
        ..BASE
    },
    // Full: five seats, all taken, and three people waiting.
    Spec {
        title: "少人数座談会 先輩複業人材と話す",
        title_en: "Small-group talk with experienced side-job professionals",
        description: "実際に岩手の企業と複業を続けている方と、少人数で話します。",
        days: &[day(On::After(25), "19:00", "20:30")],
        onsite: 5,
        venue: "東京都内の会場",
        address: "東京都",
        crowd: Crowd {
            first: 120,
            onsite: 8,
            ..BASE.crowd
        },
        ..BASE
    },
    Spec {
        kind: "fieldwork",
        selection: "screened",
        title: "遠恋複業フィールドワーク 受入企業を訪ねる2日間",
        title_en: "Enren Fukugyo field work: two days with host organizations",
        description: "受入企業を訪ね、経営者から課題とビジョンを直接聞きます。2日目はマッチングに向けたグループワーク。",
        days: &[
            Day {
                itinerary: "受入企業の訪問（2社）\n地元の方々との交流会",
                ..day(On::After(35), "13:00", "20:00")
            },
            Day {
                itinerary: "地域課題のグループワーク\nアイデア発表",
                ..day(On::After(36), "09:00", "15:00")
            },
        ],
        onsite: 12,
        venue: "岩手県内の受入企業",
        address: "岩手県",
        subsidy_up_to: 50_000,
        questions: &[Q {
            label: "関心のある分野",
            kind: QuestionKind::Choice,
            options: "販路開拓\n広報・発信\n事業承継\n観光",
            required: true,
        }],
        logistics: &[
            Q {
                label: "往路の交通手段",
                kind: QuestionKind::Choice,
                options: "新幹線\n高速バス\n自家用車\nその他",
                required: true,
            },
            Q {
                label: "前泊を希望しますか",
                kind: QuestionKind::YesNo,
                options: "",
                required: true,
            },
            Q {
                label: "食事で配慮が必要なこと",
                kind: QuestionKind::Text,
                options: "",
                required: false,
            },
        ],
        crowd: Crowd {
            first: 140,
            onsite: 10,
            pending: 4,
            declined: 1,
            ..BASE.crowd
        },
        ..BASE
    },
];

impl On {
    fn date(self, today: NaiveDate) -> anyhow::Result<NaiveDate> {
        match self {
            On::Date(y, m, d) => NaiveDate::from_ymd_opt(y, m, d),
            On::After(n) => today.checked_add_days(chrono::Days::new(n)),
        }
        .ok_or_else(|| anyhow::anyhow!("demo event date out of range"))
    }
}

/// The event form a coordinator would have typed, checked as an edit (seed events
/// lie in the past, which a new event's form refuses).
fn fields(spec: &Spec, today: NaiveDate) -> anyhow::Result<EventFields> {
    let mut pairs: Vec<(String, String)> = vec![
        ("kind".into(), spec.kind.into()),
        ("audience".into(), spec.audience.into()),
        ("title".into(), spec.title.into()),
        ("title_en".into(), spec.title_en.into()),
        ("description".into(), spec.description.into()),
        ("format".into(), spec.format.into()),
        ("selection".into(), spec.selection.into()),
        ("capacity_onsite".into(), seats(spec.onsite)),
        ("capacity_online".into(), seats(spec.online)),
        ("venue".into(), spec.venue.into()),
        ("address".into(), spec.address.into()),
        ("online_url".into(), spec.online_url.into()),
    ];
    for (i, d) in spec.days.iter().enumerate() {
        let n = i + 1;
        pairs.push((format!("day{n}_date"), d.on.date(today)?.to_string()));
        pairs.push((format!("day{n}_starts"), d.starts.into()));
        pairs.push((format!("day{n}_ends"), d.ends.into()));
        pairs.push((format!("day{n}_itinerary"), d.itinerary.into()));
    }
    if spec.subsidy_up_to > 0 {
        pairs.push(("subsidy".into(), "up_to".into()));
        pairs.push(("subsidy_amount".into(), spec.subsidy_up_to.to_string()));
    }
    question_pairs(&mut pairs, "q", spec.questions);
    if !spec.logistics.is_empty() {
        pairs.push(("logistics_form".into(), "on".into()));
        question_pairs(&mut pairs, "l", spec.logistics);
    }
    check_event_edit(&EventInput::from_pairs(&pairs))
        .map_err(|e| anyhow::anyhow!("demo event {}: {e:?}", spec.title))
}

fn seats(n: u32) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

fn question_pairs(pairs: &mut Vec<(String, String)>, prefix: &str, questions: &[Q]) {
    for (i, q) in questions.iter().enumerate() {
        let n = i + 1;
        pairs.push((format!("{prefix}{n}_label"), q.label.into()));
        pairs.push((format!("{prefix}{n}_kind"), q.kind.code().into()));
        pairs.push((format!("{prefix}{n}_options"), q.options.into()));
        if q.required {
            pairs.push((format!("{prefix}{n}_required"), "on".into()));
        }
    }
}

/// Answers person `n` gives: varied, and every required question answered.
fn answers(questions: &[Question], n: usize) -> Answers {
    let mut out = Vec::new();
    for q in questions {
        let answer = match q.kind {
            QuestionKind::Choice => Answer::Choice(q.options[n % q.options.len()].clone()),
            QuestionKind::YesNo => Answer::YesNo(!n.is_multiple_of(3)),
            QuestionKind::Text if n.is_multiple_of(4) => {
                Answer::Text("そばアレルギーがあります".into())
            }
            QuestionKind::Text => continue,
        };
        out.push((q.key.clone(), answer));
    }
    Answers(out)
}

fn new_code() -> anyhow::Result<CheckinCode> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    CheckinCode::from_random(&bytes).ok_or_else(|| anyhow::anyhow!("check-in code"))
}

pub(super) async fn account(store: &Store, address: &str) -> anyhow::Result<Option<AccountId>> {
    let email =
        yui_domain::account::Email::parse("email", address).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = store.platform(PlatformReason::TenantFiles).read().await?;
    let id = tx.account_by_email(&email).await?.map(|a| a.id);
    tx.commit().await?;
    Ok(id)
}

/// Who runs a tenant's events in the demo: its coordinator, else its administrator.
pub(super) async fn staff(store: &Store, slug: &str) -> anyhow::Result<Option<AccountId>> {
    match account(store, &format!("coordinator@{slug}.demo.yui.example")).await? {
        Some(id) => Ok(Some(id)),
        None => account(store, &format!("admin@{slug}.demo.yui.example")).await,
    }
}

/// The program of `year`, created from the tenant's program name when missing.
pub(super) async fn program(
    tx: &mut TenantTx,
    slug: &str,
    year: FiscalYear,
    now: DateTime<Utc>,
) -> anyhow::Result<ProgramId> {
    if let Some(p) = tx.program_of_year(year).await? {
        return Ok(p.id);
    }
    let (_, ja, en, rule) = PROGRAMS
        .iter()
        .find(|p| p.0 == slug)
        .ok_or_else(|| anyhow::anyhow!("no demo program for {slug}"))?;
    let name = yui_domain::locale::Localized {
        ja: (*ja).into(),
        en: (*en).into(),
    };
    let input = ProgramInput::for_year(&name, year);
    // Built directly: check_program bounds the year to the last ten, and the seeds'
    // history is older than that will one day be.
    let fields = ProgramFields {
        fiscal_year: year,
        title: yui_domain::locale::Localized {
            ja: input.title,
            en: input.title_en,
        },
    };
    Ok(tx.create_program(&fields, *rule, now).await?)
}

/// Loads the demo's programs and events; an event already in its program (by title)
/// is left as it is, with its registrations, so loading twice changes nothing, and a
/// later load finds the upcoming events it made on an earlier day. Runs after
/// [`super::load_accounts`] and [`super::load_talents`]. Sends no mail. Returns how
/// many events were created.
pub async fn load_events(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let today = now.with_timezone(&tokyo()).date_naive();
    let mut created = 0;
    for spec in SPECS {
        let Ok(tenant) = store.tenant_by_slug(spec.tenant).await else {
            continue;
        };
        let Some(actor) = staff(store, spec.tenant).await? else {
            continue;
        };
        let fields = fields(spec, today)?;
        let first = fields.days[0].date;
        // Upcoming events belong to the year they start in, which near March may be
        // the next one.
        let year = FiscalYear::containing(first);
        let mut tx = store.tenant(tenant.id).write().await?;
        let program = program(&mut tx, spec.tenant, year, now).await?;
        let exists = tx
            .events(false, Some(program), None, 1000)
            .await?
            .iter()
            .any(|e| e.title == fields.title);
        if !exists {
            let starts = fields.starts_at().unwrap_or(now);
            // Past events were set up a month ahead, as they would have been.
            let made = now.min(starts - TimeDelta::days(30));
            let event = tx
                .create_event(program, &fields, EventStatus::Published, Some(actor), made)
                .await?;
            fill(&mut tx, store, spec, &fields, event, actor, now).await?;
            created += 1;
        }
        tx.commit().await?;
    }
    Ok(created)
}

/// The spec's crowd registers, is screened, cancels and (for a past event) comes.
async fn fill(
    tx: &mut TenantTx,
    store: &Store,
    spec: &Spec,
    fields: &EventFields,
    event: EventId,
    actor: AccountId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let c = spec.crowd;
    let starts = fields.starts_at().unwrap_or(now);
    let ends = fields.ends_at().unwrap_or(now);
    let past = ends < now;
    let at = if past {
        starts - TimeDelta::days(14)
    } else {
        now
    };
    let kinds = std::iter::repeat_n(SeatKind::Onsite, c.onsite)
        .chain(std::iter::repeat_n(SeatKind::Online, c.online));
    let mut registered: Vec<RegistrationId> = Vec::new();
    for (i, kind) in kinds.enumerate() {
        let n = c.first + i;
        let Some(talent) = account(store, &format!("talent{n:03}@demo.yui.example")).await? else {
            continue;
        };
        let code = new_code()?;
        let answers = answers(&fields.questions, n);
        let new = NewRegistration {
            event,
            account: talent,
            seat_kind: kind,
            answers: &answers,
            idempotency_key: None,
            checkin_code: &code,
            // A minute apart, so the waitlist has an order.
            now: at + TimeDelta::minutes(i as i64),
        };
        if let Registered::New(r) = tx.register(&new).await? {
            registered.push(r.id);
        }
    }
    let decided = at + TimeDelta::days(2);
    if spec.selection == "screened" {
        let keep = registered.len().saturating_sub(c.pending);
        let approve = keep.saturating_sub(c.declined);
        for (i, &id) in registered[..keep].iter().enumerate() {
            tx.decide_registration(id, i < approve, actor, decided)
                .await?;
        }
    }
    let mut seated = Vec::new();
    for &id in &registered {
        let r = tx.registration(id).await?;
        if r.status() == RegistrationStatus::Confirmed {
            seated.push(r);
        }
    }
    for r in seated.iter().take(c.cancelled) {
        tx.cancel_registration(r.id, r.account_id, decided + TimeDelta::days(1))
            .await?;
    }
    let going = &seated[c.cancelled.min(seated.len())..];
    for (i, r) in going.iter().enumerate() {
        if !fields.logistics.is_empty() {
            let logistics = answers(&fields.logistics, i);
            tx.save_logistics(r.id, &logistics, decided).await?;
        }
        if let TravelSubsidy::UpTo(max) = fields.subsidy {
            // Staff judge each person; some (living nearby, say) get none.
            let eligible = i % 4 != 3;
            let paid = (eligible && past).then_some(max.min(18_000 + 4_000 * i as u64));
            tx.set_subsidy(r.id, eligible, paid, decided).await?;
        }
    }
    if past {
        let came = going.len().saturating_sub(c.no_shows);
        for (i, r) in going[..came].iter().enumerate() {
            for (d, day) in fields.days.iter().enumerate() {
                // On a tour, one person leaves after the first day.
                if d > 0 && i + 1 == came {
                    continue;
                }
                let door = day.starts_at().unwrap_or(starts) - TimeDelta::minutes(10);
                tx.check_in(
                    r.id,
                    day.date,
                    actor,
                    door + TimeDelta::seconds(i as i64 * 30),
                )
                .await?;
            }
        }
        tx.record_no_shows(event, actor, ends + TimeDelta::hours(1))
            .await?;
    }
    Ok(())
}
