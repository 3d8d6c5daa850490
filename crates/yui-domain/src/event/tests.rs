use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn today() -> NaiveDate {
    date(2025, 8, 1)
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Amami's hybrid seminar of 2024-12-11, moved to next year for the tests.
fn amami() -> Vec<(String, String)> {
    pairs(&[
        ("kind", "seminar"),
        ("audience", "hosts"),
        ("title", "副業・兼業人材活用セミナー（企業向け）"),
        ("format", "hybrid"),
        ("selection", "first_come"),
        ("day1_date", "2025-12-11"),
        ("day1_starts", "15:00"),
        ("day1_ends", "16:30"),
        ("capacity_onsite", "20"),
        ("capacity_online", "１００"),
        ("fee", ""),
        ("venue", "アマホームPLAZA（奄美市市民交流センター）"),
        ("online_url", "https://zoom.us/j/123"),
        ("opens_at", "2025-11-01T10:00"),
        ("closes_at", "2025-12-10 17:00"),
    ])
}

fn fields_of(errors: &[FieldError]) -> Vec<(&'static str, Problem)> {
    errors.iter().map(|e| (e.field, e.problem)).collect()
}

fn check_pairs(p: &[(String, String)]) -> Result<EventFields, Vec<FieldError>> {
    check_event(&EventInput::from_pairs(p), today())
}

fn with(mut p: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
    p.retain(|(key, _)| key != k);
    p.push((k.to_owned(), v.to_owned()));
    p
}

#[test]
fn codes_round_trip_with_names() {
    for k in EventKind::ALL {
        assert_eq!(EventKind::parse(k.code()), Some(*k));
        assert!(!k.name(Locale::Ja).is_empty() && !k.name(Locale::En).is_empty());
    }
    assert_eq!(Format::parse("hybrid"), Some(Format::Hybrid));
    assert_eq!(Format::parse("Hybrid"), None);
    assert_eq!(Selection::parse("screened"), Some(Selection::Screened));
    assert_eq!(Audience::Hosts.name(Locale::Ja), "受入企業・団体向け");
    assert_eq!(Format::from(EventFormat::Online), Format::Online);
    assert_eq!(
        serde_json::to_string(&EventKind::MatchingEvent).unwrap(),
        "\"matching_event\""
    );
    assert!(EventStatus::Published.can_become(EventStatus::Cancelled));
    assert!(!EventStatus::Cancelled.can_become(EventStatus::Published));
}

#[test]
fn a_hybrid_seminar() {
    let e = check_pairs(&amami()).unwrap();
    assert_eq!(e.format, Format::Hybrid);
    assert_eq!(
        e.capacity,
        Capacity {
            onsite: Some(20),
            online: Some(100)
        }
    );
    assert_eq!(e.capacity.total(), 120);
    assert_eq!(e.fee, Fee::Free);
    // 15:00 JST is 06:00 UTC.
    assert_eq!(
        e.starts_at().unwrap().to_rfc3339(),
        "2025-12-11T06:00:00+00:00"
    );
    assert_eq!(
        e.ends_at().unwrap().to_rfc3339(),
        "2025-12-11T07:30:00+00:00"
    );
    assert_eq!(
        e.window.closes_at.unwrap().to_rfc3339(),
        "2025-12-10T08:00:00+00:00"
    );
    assert_eq!(e.online_url.as_deref(), Some("https://zoom.us/j/123"));
    assert_eq!(e.title(Locale::En), e.title);
}

#[test]
fn a_two_day_tour_with_subsidy_and_logistics() {
    let p = pairs(&[
        ("kind", "fieldwork"),
        ("audience", "talent"),
        ("title", "北上 夏油温泉フィールドワーク"),
        ("format", "onsite"),
        ("selection", "screened"),
        ("day2_date", "2025-11-09"),
        ("day2_starts", "9:00"),
        ("day2_ends", "15:00"),
        ("day2_itinerary", "事業者ヒアリング\r\n振り返り"),
        ("day1_date", "2025/11/08"),
        ("day1_starts", "１３:００"),
        ("day1_ends", "18:00"),
        ("capacity_onsite", "10"),
        ("fee", "3,000円"),
        ("venue", "夏油温泉"),
        ("subsidy", "up_to"),
        ("subsidy_amount", "50000"),
        ("q1_label", "ご所属"),
        ("q1_kind", "text"),
        ("q1_required", "on"),
        ("logistics_form", "on"),
        ("l1_label", "食事の制限"),
        ("l1_kind", "text"),
    ]);
    let e = check_pairs(&p).unwrap();
    assert_eq!(e.dates(), [date(2025, 11, 8), date(2025, 11, 9)]);
    assert_eq!(e.days[1].itinerary, "事業者ヒアリング\n振り返り");
    assert_eq!(e.capacity.of(SeatKind::Online), 0);
    assert_eq!(e.fee, Fee::Yen(3000));
    assert_eq!(e.subsidy, TravelSubsidy::UpTo(50_000));
    assert_eq!(e.questions[0].key, "q1");
    assert!(e.logistics_form);
    assert_eq!(e.logistics[0].key, "l1");
    assert_eq!(
        e.ends_at().unwrap().to_rfc3339(),
        "2025-11-09T06:00:00+00:00"
    );
}

#[test]
fn empty_form_names_every_required_field() {
    let errors = check_event(&EventInput::default(), today()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    for f in [
        "kind",
        "audience",
        "title",
        "format",
        "selection",
        "day1_date",
    ] {
        assert!(fields.contains(&f), "{f}: {fields:?}");
    }
}

#[test]
fn seats_must_match_the_format() {
    let p = with(amami(), "capacity_online", "");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("capacity_online", Problem::Required)]
    );
    let p = with(amami(), "format", "online");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("capacity_onsite", Problem::InvalidChoice)]
    );
    let p = with(with(amami(), "format", "online"), "capacity_onsite", "0");
    let e = check_pairs(&p).unwrap();
    assert_eq!(
        e.capacity,
        Capacity {
            onsite: None,
            online: Some(100)
        }
    );
    // An online event needs no venue.
    let p = with(with(p, "venue", ""), "capacity_onsite", "");
    assert!(check_pairs(&p).is_ok());
    let p = with(with(amami(), "format", "onsite"), "venue", " ");
    let fields = fields_of(&check_pairs(&p).unwrap_err());
    assert!(fields.contains(&("capacity_online", Problem::InvalidChoice)));
    assert!(fields.contains(&("venue", Problem::Required)));
    for bad in ["-1", "1.5", "10001", "二十", "99999999999999999999999"] {
        let p = with(amami(), "capacity_onsite", bad);
        assert_eq!(
            fields_of(&check_pairs(&p).unwrap_err()),
            [(
                "capacity_onsite",
                Problem::OutOfRange {
                    min: 1,
                    max: 10_000
                }
            )],
            "{bad}"
        );
    }
}

#[test]
fn dates_and_times() {
    let p = with(amami(), "day1_date", "2025-07-31");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("day1_date", Problem::DateInPast)]
    );
    // Today is allowed.
    let p = with(
        with(with(amami(), "day1_date", "2025-08-01"), "opens_at", ""),
        "closes_at",
        "",
    );
    assert!(check_pairs(&p).is_ok());
    // But editing last year's event is.
    let p = with(
        with(with(amami(), "day1_date", "2024-12-11"), "opens_at", ""),
        "closes_at",
        "",
    );
    assert!(check_event_edit(&EventInput::from_pairs(&p)).is_ok());
    for (value, problem) in [
        ("2999-01-01", Problem::DateOutOfRange),
        ("2025-02-30", Problem::InvalidDate),
        ("tomorrow", Problem::InvalidDate),
        ("2025-12-11'; --", Problem::InvalidDate),
    ] {
        let p = with(
            with(with(amami(), "day1_date", value), "opens_at", ""),
            "closes_at",
            "",
        );
        assert_eq!(
            fields_of(&check_pairs(&p).unwrap_err()),
            [("day1_date", problem)],
            "{value}"
        );
    }
    let p = with(amami(), "day1_ends", "15:00");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("day1_ends", Problem::InvalidDate)]
    );
    let p = with(amami(), "day1_starts", "25:00");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("day1_starts", Problem::InvalidDate)]
    );
}

#[test]
fn days_in_order_and_bounded() {
    let mut p = amami();
    p.extend(pairs(&[
        ("day2_date", "2025-12-11"),
        ("day2_starts", "10:00"),
        ("day2_ends", "11:00"),
    ]));
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("day2_date", Problem::InvalidDate)]
    );
    // A blank row in the middle of the form is skipped; a half-filled one is named.
    let mut p = amami();
    p.extend(pairs(&[
        ("day3_date", "2025-12-12"),
        ("day3_starts", "10:00"),
    ]));
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("day3_ends", Problem::Required)]
    );
    // Sixth days and beyond are not fields of the form.
    let mut p = amami();
    p.push(("day6_date".into(), "garbage".into()));
    p.push(("day0_date".into(), "garbage".into()));
    p.push(("dayx_date".into(), "garbage".into()));
    assert!(check_pairs(&p).is_ok());
}

#[test]
fn registration_window() {
    let p = with(amami(), "closes_at", "2025-12-11T15:01");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("closes_at", Problem::InvalidDate)]
    );
    // Closing exactly at the start is fine.
    let p = with(amami(), "closes_at", "2025-12-11T15:00");
    assert!(check_pairs(&p).is_ok());
    let p = with(amami(), "opens_at", "2025-12-10T17:00");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("closes_at", Problem::InvalidDate)]
    );
    let p = with(amami(), "opens_at", "next week");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("opens_at", Problem::InvalidDate)]
    );
    let p = with(amami(), "opens_at", "2025-07-01T00:00");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("opens_at", Problem::DateInPast)]
    );
    let p = with(with(amami(), "opens_at", ""), "closes_at", "");
    assert_eq!(check_pairs(&p).unwrap().window, Window::default());
}

#[test]
fn hostile_text_and_urls() {
    for url in [
        "javascript:alert(1)",
        "ftp://example.jp",
        "https://",
        "https://a b",
        "//evil",
    ] {
        let p = with(amami(), "online_url", url);
        assert_eq!(
            fields_of(&check_pairs(&p).unwrap_err()),
            [("online_url", Problem::InvalidUrl)],
            "{url}"
        );
    }
    let p = with(amami(), "title", "\u{202E}セミナー\n\r");
    assert_eq!(check_pairs(&p).unwrap().title, "セミナー");
    let p = with(amami(), "title", &"長".repeat(TITLE_MAX + 1));
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("title", Problem::TooLong { max: TITLE_MAX })]
    );
    let p = with(amami(), "kind", "party");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("kind", Problem::InvalidChoice)]
    );
    let p = with(amami(), "fee", "-500");
    assert_eq!(fields_of(&check_pairs(&p).unwrap_err())[0].0, "fee");
    let p = with(amami(), "fee", "0");
    assert_eq!(check_pairs(&p).unwrap().fee, Fee::Free);
}

#[test]
fn subsidy_only_for_tours() {
    let p = with(with(amami(), "subsidy", "flat"), "subsidy_amount", "50000");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("subsidy", Problem::InvalidChoice)]
    );
    let tour = with(with(amami(), "kind", "fieldwork"), "subsidy", "flat");
    assert_eq!(
        fields_of(&check_pairs(&tour).unwrap_err()),
        [("subsidy_amount", Problem::Required)]
    );
    let p = with(tour.clone(), "subsidy_amount", "５０，０００");
    assert_eq!(
        check_pairs(&p).unwrap().subsidy,
        TravelSubsidy::Flat(50_000)
    );
    let p = with(tour, "subsidy", "cash");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("subsidy", Problem::InvalidChoice)]
    );
}

#[test]
fn logistics_form_needs_a_question() {
    let p = with(amami(), "logistics_form", "on");
    assert_eq!(
        fields_of(&check_pairs(&p).unwrap_err()),
        [("l1_label", Problem::Required)]
    );
    // Logistics questions without the flag are dropped.
    let mut p = amami();
    p.extend(pairs(&[("l1_label", "宿泊"), ("l1_kind", "yes_no")]));
    assert!(check_pairs(&p).unwrap().logistics.is_empty());
}

#[test]
fn prefilled_from_templates() {
    let seminar = EventTemplate {
        title: Localized {
            ja: "副業・兼業人材活用セミナー（企業向け）".into(),
            en: "Seminar for companies".into(),
        },
        format: EventFormat::Hybrid,
        capacity: 20,
        days: 1,
    };
    let input = EventInput::from_template(
        EventKind::Seminar,
        &seminar,
        date(2025, 12, 11),
        hm(15, 0),
        hm(16, 30),
    );
    assert_eq!(input.capacity_onsite, "20");
    assert_eq!(input.capacity_online, "20");
    // Only the venue is left for the coordinator.
    assert_eq!(
        fields_of(&check_event(&input, today()).unwrap_err()),
        [("venue", Problem::Required)]
    );
    let tour = EventTemplate {
        title: Localized {
            ja: "課題解決ツアー".into(),
            en: "Tour".into(),
        },
        format: EventFormat::Onsite,
        capacity: 8,
        days: 3,
    };
    let mut input = EventInput::from_template(
        EventKind::Fieldwork,
        &tour,
        date(2025, 11, 8),
        hm(9, 0),
        hm(17, 0),
    );
    input.venue = "奄美大島".into();
    let e = check_event(&input, today()).unwrap();
    assert_eq!(e.days.len(), 3);
    assert_eq!(e.selection, Selection::Screened);
    assert_eq!(e.capacity.online, None);
    assert_eq!(e.title(Locale::En), "Tour");
    // A template asking for 40 days gets the most a form holds.
    let long = EventTemplate { days: 40, ..tour };
    let input = EventInput::from_template(
        EventKind::Fieldwork,
        &long,
        date(2025, 11, 8),
        hm(9, 0),
        hm(17, 0),
    );
    assert_eq!(input.days.len(), DAYS_MAX);
}

#[test]
fn subsidy_payments() {
    let problem =
        |s: TravelSubsidy, typed: &str| s.check_payment(typed).map_err(|e| (e.field, e.problem));
    assert_eq!(problem(TravelSubsidy::Flat(50_000), ""), Ok(50_000));
    assert_eq!(problem(TravelSubsidy::Flat(50_000), "1"), Ok(50_000));
    assert_eq!(problem(TravelSubsidy::UpTo(50_000), "32,400円"), Ok(32_400));
    assert_eq!(problem(TravelSubsidy::UpTo(50_000), "50000"), Ok(50_000));
    assert_eq!(
        problem(TravelSubsidy::UpTo(50_000), "50001"),
        Err((
            "subsidy_paid",
            Problem::OutOfRange {
                min: 1,
                max: 50_000
            }
        ))
    );
    assert_eq!(
        problem(TravelSubsidy::UpTo(50_000), "-5"),
        Err((
            "subsidy_paid",
            Problem::OutOfRange {
                min: 1,
                max: 50_000
            }
        ))
    );
    assert_eq!(
        problem(TravelSubsidy::UpTo(50_000), " "),
        Err(("subsidy_paid", Problem::Required))
    );
    assert_eq!(
        problem(TravelSubsidy::None, "100"),
        Err(("subsidy_paid", Problem::InvalidChoice))
    );
}
