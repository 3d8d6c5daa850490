//! `yui match solve` and `yui match check` through the real binary: stdin in, stdout and
//! exit code out.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn yui_match(command: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yui"))
        .args(["match", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start yui");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A process that rejects its input early may close stdin first; that is fine.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let out = child.wait_with_output().expect("wait for yui");
    Output {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

const ROUND: &str = r#"{
  "talents": [
    {"id": "t1", "prefs": ["p2", "p1"]},
    {"id": "t2", "prefs": ["p1"]},
    {"id": "t3", "prefs": ["p1", "p2"]},
    {"id": "t4", "prefs": ["p2", "p1"]}
  ],
  "projects": [
    {"id": "p1", "capacity": 2, "prefs": ["t4", "t3", "t1"]},
    {"id": "p2", "capacity": 1, "prefs": ["t3", "t1", "t4"]}
  ]
}"#;

#[test]
fn solve_prints_the_talent_optimal_matching() {
    let out = yui_match("solve", ROUND);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let got: Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    // t1 and t4 both want p2, which prefers t1; t4 then takes p1 with t3. t2 is not
    // listed by p1, so it stays unmatched.
    assert_eq!(
        got["assignments"],
        json!([
            {"talent": "t1", "project": "p2", "rank": 1},
            {"talent": "t3", "project": "p1", "rank": 1},
            {"talent": "t4", "project": "p1", "rank": 2}
        ])
    );
    assert_eq!(got["unmatched_talents"], json!(["t2"]));
    assert_eq!(got["open_seats"], json!({"p1": 0, "p2": 0}));
    assert_eq!(got["summary"]["matched"], 3);
    assert_eq!(got["summary"]["first_choice"], 2);
    assert_eq!(got["summary"]["second_choice"], 1);
}

#[test]
fn solve_does_not_depend_on_input_order() {
    let mut doc: Value = serde_json::from_str(ROUND).unwrap();
    doc["talents"].as_array_mut().unwrap().reverse();
    doc["projects"].as_array_mut().unwrap().reverse();
    let shuffled = yui_match("solve", &doc.to_string());
    let base = yui_match("solve", ROUND);
    assert_eq!(shuffled.code, 0);
    assert_eq!(shuffled.stdout, base.stdout);
}

#[test]
fn solve_rejects_bad_input_with_exit_2_and_no_stdout() {
    let cases = [
        ("malformed JSON", r#"{"talents": ["#, "input"),
        ("not an object", "[1, 2]", "input"),
        ("missing projects", r#"{"talents": []}"#, "projects"),
        (
            "unknown project",
            r#"{"talents": [{"id": "t1", "prefs": ["p1", "p9"]}],
                "projects": [{"id": "p1", "capacity": 1, "prefs": ["t1"]}]}"#,
            r#"talents[0].prefs[1]: unknown project "p9""#,
        ),
        (
            "unknown talent",
            r#"{"talents": [{"id": "t1", "prefs": ["p1"]}],
                "projects": [{"id": "p1", "capacity": 1, "prefs": ["t1", "t7"]}]}"#,
            r#"projects[0].prefs[1]: unknown talent "t7""#,
        ),
        (
            "duplicate entry in a talent's list",
            r#"{"talents": [{"id": "t1", "prefs": ["p1", "p1"]}],
                "projects": [{"id": "p1", "capacity": 1, "prefs": ["t1"]}]}"#,
            "talents[0].prefs[1]",
        ),
        (
            "duplicate entry in a project's list",
            r#"{"talents": [{"id": "t1", "prefs": ["p1"]}],
                "projects": [{"id": "p1", "capacity": 1, "prefs": ["t1", "t1"]}]}"#,
            "projects[0].prefs[1]",
        ),
        (
            "duplicate talent id",
            r#"{"talents": [{"id": "t1", "prefs": []}, {"id": "t1", "prefs": []}], "projects": []}"#,
            r#"talents[1].id: duplicate talent id "t1""#,
        ),
        (
            "duplicate project id",
            r#"{"talents": [], "projects": [{"id": "p1", "capacity": 1, "prefs": []},
                                            {"id": "p1", "capacity": 2, "prefs": []}]}"#,
            r#"projects[1].id: duplicate project id "p1""#,
        ),
        (
            "negative capacity",
            r#"{"talents": [], "projects": [{"id": "p1", "capacity": -3, "prefs": []}]}"#,
            "projects[0].capacity",
        ),
        (
            "capacity of the wrong type",
            r#"{"talents": [], "projects": [{"id": "p1", "capacity": "2", "prefs": []}]}"#,
            "projects[0].capacity",
        ),
    ];
    for (what, input, names) in cases {
        let out = yui_match("solve", input);
        assert_eq!(out.code, 2, "{what}: exit code (stderr: {})", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "{what}: stdout must be empty, got {}",
            out.stdout
        );
        assert!(
            out.stderr.contains(names),
            "{what}: stderr should name {names:?}, got {:?}",
            out.stderr
        );
    }
}

#[test]
fn check_exits_0_for_a_stable_matching() {
    let solved: Value = serde_json::from_str(&yui_match("solve", ROUND).stdout).unwrap();
    let input = json!({
        "instance": serde_json::from_str::<Value>(ROUND).unwrap(),
        "assignments": solved["assignments"],
    });
    let out = yui_match("check", &input.to_string());
    assert_eq!(out.code, 0, "stdout: {} stderr: {}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        report,
        json!({"ok": true, "violations": [], "blocking_pairs": []})
    );
}

#[test]
fn check_exits_1_and_lists_violations_and_blocking_pairs() {
    // A coordinator swapped t3 and t1 and squeezed t2 into p1.
    let input = json!({
        "instance": serde_json::from_str::<Value>(ROUND).unwrap(),
        "assignments": [
            {"talent": "t3", "project": "p2"},
            {"talent": "t1", "project": "p1"},
            {"talent": "t4", "project": "p1"},
            {"talent": "t2", "project": "p1"}
        ],
    });
    let out = yui_match("check", &input.to_string());
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let kinds: Vec<&str> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["unacceptable", "over_capacity"]);
    assert_eq!(report["violations"][0]["talent"], "t2");
    assert_eq!(report["violations"][1]["project"], "p1");
    // t3 prefers p1, which ranks t3 above t1 (and is full): blocking.
    assert_eq!(
        report["blocking_pairs"],
        json!([{"talent": "t3", "project": "p1", "talent_rank": 1, "project_rank": 2}])
    );
}

#[test]
fn check_rejects_bad_input_with_exit_2() {
    let cases = [
        ("not JSON", "nope".to_owned(), "input"),
        ("no instance", r#"{"assignments": []}"#.to_owned(), "instance"),
        (
            "unknown talent",
            format!(r#"{{"instance": {ROUND}, "assignments": [{{"talent": "t9", "project": "p1"}}]}}"#),
            r#"assignments[0].talent: unknown talent "t9""#,
        ),
        (
            "bad instance",
            r#"{"instance": {"talents": [], "projects": [{"id": "p", "capacity": -1, "prefs": []}]}, "assignments": []}"#
                .to_owned(),
            "instance.projects[0].capacity",
        ),
    ];
    for (what, input, names) in cases {
        let out = yui_match("check", &input);
        assert_eq!(out.code, 2, "{what}: exit code");
        assert!(out.stdout.is_empty(), "{what}: stdout must be empty");
        assert!(
            out.stderr.contains(names),
            "{what}: stderr {:?} should name {names:?}",
            out.stderr
        );
    }
}
