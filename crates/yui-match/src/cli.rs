//! The JSON contract of `yui match solve` and `yui match check`.
//!
//! Input of `solve` (ids are strings; lists are most preferred first):
//! ```json
//! {"talents":  [{"id": "t1", "prefs": ["p2", "p1"]}],
//!  "projects": [{"id": "p1", "capacity": 2, "prefs": ["t1", "t3"]}]}
//! ```
//! Output: `assignments` sorted by talent id (byte order), each with the `rank` the talent
//! gave its project (1 = first choice); `unmatched_talents` sorted; `open_seats` for every
//! project; and a `summary` with the counts a coordinator reads first.
//!
//! Input of `check`: `{"instance": <solve input>, "assignments": [{"talent": …, "project": …}]}`
//! (extra fields such as `rank` are ignored, so an edited `solve` output can be pasted).
//! Output: `ok`, `violations` and `blocking_pairs`.
//!
//! Bad input gives an [`InputError`] naming the field, e.g.
//! `talents[3].prefs[1]: unknown project "p9"`; nothing is written on stdout then.

mod render;
mod scan;

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{Violation, check};
use crate::ids::IdIndex;
use crate::instance::{Instance, InstanceBuilder, InstanceError, Side};
use crate::prepare::Prepared;

/// Bad input: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    path: String,
    message: String,
}

impl InputError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The offending field, e.g. `talents[3].prefs[1]` (`input` for the document itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for InputError {}

/// What `yui match check` prints, and whether the matching passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The report as JSON on one line (no trailing newline).
    pub json: String,
    /// True when there are no violations and no blocking pairs.
    pub ok: bool,
}

/// A round read from JSON: the index-based instance and the ids behind the indices.
#[derive(Clone, Debug)]
pub struct Round {
    /// The lists, with talents and projects numbered in input order.
    pub instance: Instance,
    /// `talent_ids[t]` is talent `t`'s id.
    pub talent_ids: Vec<String>,
    /// `project_ids[p]` is project `p`'s id.
    pub project_ids: Vec<String>,
}

/// Runs `yui match solve`: returns the JSON text to print (one line, no trailing newline).
pub fn solve_json(input: &str) -> Result<String, InputError> {
    let mut line = solve_line(input)?;
    line.pop();
    // Ids come from a `str` and every escape is ASCII, so the text is UTF-8.
    Ok(String::from_utf8(line).unwrap_or_default())
}

/// Runs `yui match solve` and returns the bytes to print: the JSON line and its newline.
///
/// A large round is read in one pass ([`scan`]); a document that pass does not accept
/// as is (escaped ids, repeated keys, any error) is read by the general readers, which
/// give the same output or name the offending field.
pub fn solve_line(input: &str) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::new();
    if let Some(round) = scan::read_round(input) {
        let capacity = round.instance.capacities().to_vec();
        let matching = Prepared::from_instance(round.instance).solve();
        render::solution(
            &matching,
            &capacity,
            &round.talent_ids,
            &round.project_ids,
            &mut out,
        );
    } else {
        let round = match parse_round_fast(input) {
            Some(round) => round?,
            None => parse_round(&parse_document(input)?, "")?,
        };
        render_into(&round, &mut out);
    }
    out.push(b'\n');
    Ok(out)
}

/// Runs `yui match check`: the report as JSON and whether it is clean.
pub fn check_json(input: &str) -> Result<CheckOutcome, InputError> {
    let doc = parse_document(input)?;
    let obj = doc.as_object().ok_or_else(|| {
        InputError::new(
            "input",
            r#"expected an object with "instance" and "assignments""#,
        )
    })?;
    let instance = obj
        .get("instance")
        .ok_or_else(|| InputError::new("instance", "missing"))?;
    let round = parse_round(instance, "instance.")?;
    let assignments = parse_assignments(obj.get("assignments"), &round)?;
    let report = match check(&round.instance, &assignments) {
        Ok(report) => report,
        // Indices come from the id tables, so they are always in range.
        Err(e) => return Err(InputError::new("assignments", e.to_string())),
    };

    let (tid, pid) = (&round.talent_ids, &round.project_ids);
    let violations = report
        .violations
        .iter()
        .map(|v| ViolationOut::new(v, tid, pid))
        .collect();
    let blocking_pairs = report
        .blocking_pairs
        .iter()
        .map(|b| BlockingOut {
            talent: &tid[b.talent as usize],
            project: &pid[b.project as usize],
            talent_rank: b.talent_rank,
            project_rank: b.project_rank,
        })
        .collect();
    let ok = report.is_ok();
    let json = to_line(&CheckOut {
        ok,
        violations,
        blocking_pairs,
    });
    Ok(CheckOutcome { json, ok })
}

fn parse_document(input: &str) -> Result<Value, InputError> {
    serde_json::from_str(input).map_err(|e| InputError::new("input", format!("invalid JSON: {e}")))
}

/// Reads `{"talents": […], "projects": […]}`; `prefix` is put before every field path.
pub fn parse_round(doc: &Value, prefix: &str) -> Result<Round, InputError> {
    let obj = doc.as_object().ok_or_else(|| {
        let root = if prefix.is_empty() {
            "input"
        } else {
            prefix.trim_end_matches('.')
        };
        InputError::new(root, r#"expected an object with "talents" and "projects""#)
    })?;
    let talents = array_field(obj, "talents", prefix)?;
    let projects = array_field(obj, "projects", prefix)?;
    let mut talent_lists = Vec::with_capacity(talents.len());
    for (i, item) in talents.iter().enumerate() {
        let (id, prefs) = participant(item, &|| format!("{prefix}talents[{i}]"))?;
        talent_lists.push((id, prefs.as_slice()));
    }
    let mut project_lists = Vec::with_capacity(projects.len());
    for (i, item) in projects.iter().enumerate() {
        let path = || format!("{prefix}projects[{i}]");
        let (id, prefs) = participant(item, &path)?;
        project_lists.push((id, capacity(item, &path)?, prefs.as_slice()));
    }
    assemble(&talent_lists, &project_lists, prefix)
}

/// The `solve` input as plain structs, borrowing ids from the input text. Parsing into
/// these is several times faster than into [`Value`]; when it fails, the input is read
/// again as a [`Value`] to say precisely what is wrong, so both paths accept the same
/// documents and give the same results.
#[derive(Deserialize)]
struct FastRound<'a> {
    #[serde(borrow)]
    talents: Vec<FastTalent<'a>>,
    #[serde(borrow)]
    projects: Vec<FastProject<'a>>,
}

#[derive(Deserialize)]
struct FastTalent<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    prefs: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct FastProject<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    capacity: u32,
    #[serde(borrow)]
    prefs: Vec<Cow<'a, str>>,
}

fn parse_round_fast(input: &str) -> Option<Result<Round, InputError>> {
    let fast: FastRound<'_> = serde_json::from_str(input).ok()?;
    let talents: Vec<_> = fast
        .talents
        .iter()
        .map(|t| (t.id.as_ref(), t.prefs.as_slice()))
        .collect();
    let projects: Vec<_> = fast
        .projects
        .iter()
        .map(|p| (p.id.as_ref(), p.capacity, p.prefs.as_slice()))
        .collect();
    Some(assemble(&talents, &projects, ""))
}

/// An entry of a preference list as parsed: an id, or something else.
trait Entry {
    fn id(&self) -> Option<&str>;
    fn kind(&self) -> &'static str;
}

impl Entry for Value {
    fn id(&self) -> Option<&str> {
        self.as_str()
    }
    fn kind(&self) -> &'static str {
        kind(self)
    }
}

impl Entry for Cow<'_, str> {
    fn id(&self) -> Option<&str> {
        Some(self)
    }
    fn kind(&self) -> &'static str {
        "a string"
    }
}

/// Checks ids and resolves every list into an [`Instance`].
fn assemble<E: Entry>(
    talents: &[(&str, &[E])],
    projects: &[(&str, u32, &[E])],
    prefix: &str,
) -> Result<Round, InputError> {
    let talent_index = index_ids(talents.iter().map(|t| t.0), "talent", "talents", prefix)?;
    let project_index = index_ids(projects.iter().map(|p| p.0), "project", "projects", prefix)?;
    let mut builder = Instance::builder();
    let mut list = Vec::new();
    for (i, (_, prefs)) in talents.iter().enumerate() {
        resolve(prefs, &project_index, "project", &mut list, |j| {
            format!("{prefix}talents[{i}].prefs[{j}]")
        })?;
        builder.talent(&list);
    }
    for (i, (_, capacity, prefs)) in projects.iter().enumerate() {
        resolve(prefs, &talent_index, "talent", &mut list, |j| {
            format!("{prefix}projects[{i}].prefs[{j}]")
        })?;
        builder.project(*capacity, &list);
    }
    let talent_ids: Vec<String> = talents.iter().map(|t| t.0.to_owned()).collect();
    let project_ids: Vec<String> = projects.iter().map(|p| p.0.to_owned()).collect();
    let instance = build(builder, &talent_ids, &project_ids, prefix)?;
    Ok(Round {
        instance,
        talent_ids,
        project_ids,
    })
}

/// Maps ids to their positions, rejecting empty and repeated ids.
fn index_ids<'a>(
    ids: impl ExactSizeIterator<Item = &'a str>,
    what: &str,
    list: &str,
    prefix: &str,
) -> Result<IdIndex<'a>, InputError> {
    let mut index = IdIndex::with_capacity(ids.len());
    for (i, id) in ids.enumerate() {
        let path = || format!("{prefix}{list}[{i}].id");
        if id.is_empty() {
            return Err(InputError::new(path(), "must not be empty"));
        }
        if let Some(first) = index.insert(id, i as u32) {
            return Err(InputError::new(
                path(),
                format!("duplicate {what} id {id:?} (also {prefix}{list}[{first}])"),
            ));
        }
    }
    Ok(index)
}

fn array_field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<&'a Vec<Value>, InputError> {
    match obj.get(name) {
        None => Err(InputError::new(format!("{prefix}{name}"), "missing")),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(InputError::new(
            format!("{prefix}{name}"),
            format!("expected an array, got {}", kind(other)),
        )),
    }
}

/// Reads the `id` and `prefs` of a talent or project object.
fn participant<'a>(
    item: &'a Value,
    path: &dyn Fn() -> String,
) -> Result<(&'a str, &'a Vec<Value>), InputError> {
    let obj = item.as_object().ok_or_else(|| {
        InputError::new(path(), format!("expected an object, got {}", kind(item)))
    })?;
    let id = match obj.get("id") {
        None => return Err(InputError::new(format!("{}.id", path()), "missing")),
        Some(Value::String(id)) => id.as_str(),
        Some(other) => {
            return Err(InputError::new(
                format!("{}.id", path()),
                format!("expected a string, got {}", kind(other)),
            ));
        }
    };
    let prefs = match obj.get("prefs") {
        None => return Err(InputError::new(format!("{}.prefs", path()), "missing")),
        Some(Value::Array(prefs)) => prefs,
        Some(other) => {
            return Err(InputError::new(
                format!("{}.prefs", path()),
                format!("expected an array of ids, got {}", kind(other)),
            ));
        }
    };
    Ok((id, prefs))
}

fn capacity(item: &Value, path: &dyn Fn() -> String) -> Result<u32, InputError> {
    let field = || format!("{}.capacity", path());
    let value = item
        .get("capacity")
        .ok_or_else(|| InputError::new(field(), "missing"))?;
    if let Some(n) = value.as_u64() {
        return u32::try_from(n).map_err(|_| {
            InputError::new(field(), format!("too large: {n} (at most {})", u32::MAX))
        });
    }
    let message = match value.as_f64() {
        Some(x) if x < 0.0 => format!("must not be negative, got {value}"),
        Some(_) => format!("expected a whole number of seats, got {value}"),
        None => format!("expected a non-negative integer, got {}", kind(value)),
    };
    Err(InputError::new(field(), message))
}

/// Maps a list of ids to indices into `out`; duplicates are left to [`Instance`]'s check.
fn resolve<E: Entry>(
    prefs: &[E],
    index: &IdIndex<'_>,
    what: &str,
    out: &mut Vec<u32>,
    path: impl Fn(usize) -> String,
) -> Result<(), InputError> {
    out.clear();
    for (j, v) in prefs.iter().enumerate() {
        let Some(id) = v.id() else {
            return Err(InputError::new(
                path(j),
                format!("expected a {what} id (string), got {}", v.kind()),
            ));
        };
        match index.get(id) {
            Some(k) => out.push(k),
            None => return Err(InputError::new(path(j), format!("unknown {what} {id:?}"))),
        }
    }
    Ok(())
}

fn build(
    builder: InstanceBuilder,
    talent_ids: &[String],
    project_ids: &[String],
    prefix: &str,
) -> Result<Instance, InputError> {
    builder.build().map_err(|e| match e {
        InstanceError::Duplicate {
            side,
            owner,
            position,
            first,
            value,
        } => {
            let (list, ids, what) = match side {
                Side::Talent => ("talents", project_ids, "project"),
                Side::Project => ("projects", talent_ids, "talent"),
            };
            InputError::new(
                format!("{prefix}{list}[{owner}].prefs[{position}]"),
                format!(
                    "duplicate {what} {:?} (also prefs[{first}])",
                    ids[value as usize]
                ),
            )
        }
        InstanceError::TooLarge(side) => {
            let list = match side {
                Side::Talent => "talents",
                Side::Project => "projects",
            };
            InputError::new(format!("{prefix}{list}"), "too many entries for one round")
        }
        other => InputError::new(prefix.trim_end_matches('.'), other.to_string()),
    })
}

fn parse_assignments<'a>(
    value: Option<&Value>,
    round: &'a Round,
) -> Result<Vec<(u32, u32)>, InputError> {
    let items = match value {
        None => return Err(InputError::new("assignments", "missing")),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(InputError::new(
                "assignments",
                format!("expected an array, got {}", kind(other)),
            ));
        }
    };
    let index = |ids: &'a [String]| -> IdIndex<'a> {
        let mut index = IdIndex::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            index.insert(id, i as u32);
        }
        index
    };
    let (talents, projects) = (index(&round.talent_ids), index(&round.project_ids));
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if !item.is_object() {
            return Err(InputError::new(
                format!("assignments[{i}]"),
                format!("expected an object, got {}", kind(item)),
            ));
        }
        let lookup = |field: &str, ids: &IdIndex<'_>| -> Result<u32, InputError> {
            let path = format!("assignments[{i}].{field}");
            match item.get(field) {
                None => Err(InputError::new(path, "missing")),
                Some(Value::String(id)) => ids
                    .get(id)
                    .ok_or_else(|| InputError::new(path, format!("unknown {field} {id:?}"))),
                Some(other) => Err(InputError::new(
                    path,
                    format!("expected a {field} id (string), got {}", kind(other)),
                )),
            }
        };
        out.push((lookup("talent", &talents)?, lookup("project", &projects)?));
    }
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Solves a parsed round and renders the `solve` output.
pub fn render_solution(round: &Round) -> String {
    let mut out = Vec::new();
    render_into(round, &mut out);
    // As in `solve_json`: built from `str`s and ASCII.
    String::from_utf8(out).unwrap_or_default()
}

fn render_into(round: &Round, out: &mut Vec<u8>) {
    let instance = &round.instance;
    let matching = Prepared::new(instance).solve();
    render::solution(
        &matching,
        instance.capacities(),
        &round.talent_ids,
        &round.project_ids,
        out,
    );
}

#[derive(Serialize)]
struct CheckOut<'a> {
    ok: bool,
    violations: Vec<ViolationOut<'a>>,
    blocking_pairs: Vec<BlockingOut<'a>>,
}

#[derive(Serialize)]
struct BlockingOut<'a> {
    talent: &'a str,
    project: &'a str,
    talent_rank: u32,
    project_rank: u32,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ViolationOut<'a> {
    Unacceptable {
        talent: &'a str,
        project: &'a str,
        listed_by_talent: bool,
        listed_by_project: bool,
        message: String,
    },
    MultipleAssignments {
        talent: &'a str,
        projects: Vec<&'a str>,
        message: String,
    },
    OverCapacity {
        project: &'a str,
        capacity: u32,
        assigned: u32,
        message: String,
    },
}

impl<'a> ViolationOut<'a> {
    fn new(v: &Violation, tid: &'a [String], pid: &'a [String]) -> Self {
        match *v {
            Violation::Unacceptable {
                talent,
                project,
                listed_by_talent,
                listed_by_project,
            } => {
                let (t, p) = (&tid[talent as usize], &pid[project as usize]);
                let why = match (listed_by_talent, listed_by_project) {
                    (false, false) => "neither lists the other".to_owned(),
                    (false, true) => format!("{t} does not list {p}"),
                    _ => format!("{p} does not list {t}"),
                };
                Self::Unacceptable {
                    talent: t,
                    project: p,
                    listed_by_talent,
                    listed_by_project,
                    message: format!("{t} is assigned to {p}, but {why}"),
                }
            }
            Violation::MultipleAssignments {
                talent,
                ref projects,
            } => {
                let t = &tid[talent as usize];
                let projects: Vec<&str> =
                    projects.iter().map(|&p| pid[p as usize].as_str()).collect();
                let message = format!(
                    "{t} is assigned {} times: {}",
                    projects.len(),
                    projects.join(", ")
                );
                Self::MultipleAssignments {
                    talent: t,
                    projects,
                    message,
                }
            }
            Violation::OverCapacity {
                project,
                capacity,
                assigned,
            } => {
                let p = &pid[project as usize];
                Self::OverCapacity {
                    project: p,
                    capacity,
                    assigned,
                    message: format!("{p} has {assigned} talents assigned, capacity {capacity}"),
                }
            }
        }
    }
}

/// Compact JSON on one line, without the final newline (the caller prints one).
fn to_line<T: Serialize>(value: &T) -> String {
    // Serializing plain structs, strings and integers cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUND: &str = r#"{
        "talents": [
            {"id": "t1", "prefs": ["p2", "p1"]},
            {"id": "t2", "prefs": ["p1"]},
            {"id": "t3", "prefs": ["p1", "p2"]}
        ],
        "projects": [
            {"id": "p1", "capacity": 2, "prefs": ["t3", "t1"]},
            {"id": "p2", "capacity": 1, "prefs": ["t1", "t3"]}
        ]
    }"#;

    fn err(input: &str) -> String {
        solve_json(input).unwrap_err().to_string()
    }

    #[test]
    fn solves_the_contract_shape() {
        let out = solve_json(ROUND).unwrap();
        assert!(!out.contains('\n'));
        let want = serde_json::json!({
            "assignments": [
                {"talent": "t1", "project": "p2", "rank": 1},
                {"talent": "t3", "project": "p1", "rank": 1}
            ],
            "unmatched_talents": ["t2"],
            "open_seats": {"p1": 1, "p2": 0},
            "summary": {
                "talents": 3, "projects": 2, "matched": 2, "unmatched": 1,
                "first_choice": 2, "second_choice": 0, "third_choice": 0, "later_choice": 0,
                "seats": 3, "open_seats": 1
            }
        });
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), want);
    }

    #[test]
    fn output_is_sorted_by_id() {
        let input = r#"{"talents": [
                {"id": "t9", "prefs": ["b"]}, {"id": "t10", "prefs": ["a"]},
                {"id": "t2", "prefs": ["a", "b"]}, {"id": "z", "prefs": []}, {"id": "a", "prefs": []}],
            "projects": [
                {"id": "b", "capacity": 1, "prefs": ["t2", "t9"]},
                {"id": "a", "capacity": 5, "prefs": ["t10", "t2"]}]}"#;
        let out: Value = serde_json::from_str(&solve_json(input).unwrap()).unwrap();
        let talents: Vec<&str> = out["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["talent"].as_str().unwrap())
            .collect();
        assert_eq!(talents, ["t10", "t2", "t9"]);
        assert_eq!(out["assignments"][2]["project"], "b");
        assert_eq!(out["unmatched_talents"], serde_json::json!(["a", "z"]));
        assert_eq!(out["open_seats"], serde_json::json!({"a": 3, "b": 0}));
        assert!(
            solve_json(input)
                .unwrap()
                .contains(r#""open_seats":{"a":3,"b":0}"#)
        );
    }

    #[test]
    fn escapes_extra_fields_and_repeated_keys() {
        // Escaped ids are owned strings in the fast path; unknown fields are ignored;
        // a repeated key makes the fast path give way to the Value reader (last wins).
        let input = r#"{"talents": [{"id": "t\u0031", "name": "x", "prefs": ["p\"1"]}],
            "projects": [{"id": "p\"1", "capacity": 0, "capacity": 1, "prefs": ["t1"]}],
            "round": 3}"#;
        let out: Value = serde_json::from_str(&solve_json(input).unwrap()).unwrap();
        assert_eq!(
            out["assignments"],
            serde_json::json!([{"talent": "t1", "project": "p\"1", "rank": 1}])
        );
    }

    #[test]
    fn empty_round() {
        let out: Value =
            serde_json::from_str(&solve_json(r#"{"talents": [], "projects": []}"#).unwrap())
                .unwrap();
        assert_eq!(out["assignments"], serde_json::json!([]));
        assert_eq!(out["open_seats"], serde_json::json!({}));
    }

    #[test]
    fn bad_input_names_the_field() {
        let cases = [
            ("{", "input: invalid JSON"),
            ("[]", "input: expected an object"),
            (r#"{"projects": []}"#, "talents: missing"),
            (
                r#"{"talents": {}, "projects": []}"#,
                "talents: expected an array",
            ),
            (
                r#"{"talents": [3], "projects": []}"#,
                "talents[0]: expected an object",
            ),
            (
                r#"{"talents": [{"prefs": []}], "projects": []}"#,
                "talents[0].id: missing",
            ),
            (
                r#"{"talents": [{"id": 1, "prefs": []}], "projects": []}"#,
                "talents[0].id: expected a string",
            ),
            (
                r#"{"talents": [{"id": "", "prefs": []}], "projects": []}"#,
                "talents[0].id: must not be empty",
            ),
            (
                r#"{"talents": [{"id": "t"}], "projects": []}"#,
                "talents[0].prefs: missing",
            ),
            (
                r#"{"talents": [{"id": "a", "prefs": []}, {"id": "a", "prefs": []}], "projects": []}"#,
                r#"talents[1].id: duplicate talent id "a" (also talents[0])"#,
            ),
            (
                r#"{"talents": [], "projects": [{"id": "p", "capacity": 1, "prefs": []}, {"id": "p", "capacity": 1, "prefs": []}]}"#,
                r#"projects[1].id: duplicate project id "p""#,
            ),
            (
                r#"{"talents": [], "projects": [{"id": "p", "capacity": -1, "prefs": []}]}"#,
                "projects[0].capacity: must not be negative, got -1",
            ),
            (
                r#"{"talents": [], "projects": [{"id": "p", "capacity": 1.5, "prefs": []}]}"#,
                "projects[0].capacity: expected a whole number",
            ),
            (
                r#"{"talents": [], "projects": [{"id": "p", "capacity": "2", "prefs": []}]}"#,
                "projects[0].capacity: expected a non-negative integer, got a string",
            ),
            (
                r#"{"talents": [], "projects": [{"id": "p", "prefs": []}]}"#,
                "projects[0].capacity: missing",
            ),
            (
                r#"{"talents": [], "projects": [{"id": "p", "capacity": 4294967296, "prefs": []}]}"#,
                "projects[0].capacity: too large",
            ),
            (
                r#"{"talents": [{"id": "t", "prefs": ["p", "p9"]}], "projects": [{"id": "p", "capacity": 1, "prefs": []}]}"#,
                r#"talents[0].prefs[1]: unknown project "p9""#,
            ),
            (
                r#"{"talents": [{"id": "t", "prefs": [7]}], "projects": []}"#,
                "talents[0].prefs[0]: expected a project id (string), got a number",
            ),
            (
                r#"{"talents": [{"id": "t", "prefs": []}], "projects": [{"id": "p", "capacity": 1, "prefs": ["t", "x"]}]}"#,
                r#"projects[0].prefs[1]: unknown talent "x""#,
            ),
            (
                r#"{"talents": [{"id": "t", "prefs": ["p", "q", "p"]}], "projects": [{"id": "p", "capacity": 1, "prefs": []}, {"id": "q", "capacity": 1, "prefs": []}]}"#,
                r#"talents[0].prefs[2]: duplicate project "p" (also prefs[0])"#,
            ),
            (
                r#"{"talents": [{"id": "t", "prefs": []}], "projects": [{"id": "p", "capacity": 1, "prefs": ["t", "t"]}]}"#,
                r#"projects[0].prefs[1]: duplicate talent "t" (also prefs[0])"#,
            ),
        ];
        for (input, want) in cases {
            let got = err(input);
            assert!(
                got.starts_with(want),
                "for {input}\n got: {got}\nwant: {want}"
            );
        }
    }

    #[test]
    fn check_accepts_a_solved_matching() {
        let solved: Value = serde_json::from_str(&solve_json(ROUND).unwrap()).unwrap();
        let input = format!(
            r#"{{"instance": {ROUND}, "assignments": {}}}"#,
            solved["assignments"]
        );
        let outcome = check_json(&input).unwrap();
        assert!(outcome.ok);
        assert_eq!(
            serde_json::from_str::<Value>(&outcome.json).unwrap(),
            serde_json::json!({"ok": true, "violations": [], "blocking_pairs": []})
        );
    }

    #[test]
    fn check_reports_edits() {
        // t3 moved from p1 to p2 (pushing out t1, and over p2's one seat), t2 put on p1.
        let input = format!(
            r#"{{"instance": {ROUND}, "assignments": [
                {{"talent": "t1", "project": "p2"}},
                {{"talent": "t3", "project": "p2"}},
                {{"talent": "t2", "project": "p1"}}]}}"#
        );
        let outcome = check_json(&input).unwrap();
        assert!(!outcome.ok);
        let report: Value = serde_json::from_str(&outcome.json).unwrap();
        assert_eq!(
            report["violations"],
            serde_json::json!([
                {"kind": "unacceptable", "talent": "t2", "project": "p1",
                 "listed_by_talent": true, "listed_by_project": false,
                 "message": "t2 is assigned to p1, but p1 does not list t2"},
                {"kind": "over_capacity", "project": "p2", "capacity": 1, "assigned": 2,
                 "message": "p2 has 2 talents assigned, capacity 1"}
            ])
        );
        // t3 would rather have p1, which has a seat and lists t3.
        assert_eq!(
            report["blocking_pairs"],
            serde_json::json!([{"talent": "t3", "project": "p1", "talent_rank": 1, "project_rank": 1}])
        );
    }

    #[test]
    fn check_input_errors_name_the_field() {
        let cases = [
            (r#"{"assignments": []}"#.to_owned(), "instance: missing"),
            (format!(r#"{{"instance": {ROUND}}}"#), "assignments: missing"),
            (
                r#"{"instance": {"talents": [{"id": "t", "prefs": ["x"]}], "projects": []}, "assignments": []}"#.to_owned(),
                r#"instance.talents[0].prefs[0]: unknown project "x""#,
            ),
            (
                format!(r#"{{"instance": {ROUND}, "assignments": [{{"talent": "t9", "project": "p1"}}]}}"#),
                r#"assignments[0].talent: unknown talent "t9""#,
            ),
            (
                format!(r#"{{"instance": {ROUND}, "assignments": [{{"talent": "t1"}}]}}"#),
                "assignments[0].project: missing",
            ),
            (
                format!(r#"{{"instance": {ROUND}, "assignments": [{{"talent": "t1", "project": 2}}]}}"#),
                "assignments[0].project: expected a project id (string), got a number",
            ),
        ];
        for (input, want) in cases {
            let got = check_json(&input).unwrap_err().to_string();
            assert!(
                got.starts_with(want),
                "for {input}\n got: {got}\nwant: {want}"
            );
        }
    }

    mod oracle {
        use std::collections::BTreeMap;

        use serde::Serialize;

        use super::super::{Prepared, Round};

        #[derive(Serialize)]
        struct SolveOut<'a> {
            assignments: Vec<AssignmentOut<'a>>,
            unmatched_talents: Vec<&'a str>,
            open_seats: BTreeMap<&'a str, u32>,
            summary: SummaryOut,
        }

        #[derive(Serialize)]
        struct AssignmentOut<'a> {
            talent: &'a str,
            project: &'a str,
            rank: u32,
        }

        #[derive(Serialize)]
        struct SummaryOut {
            talents: usize,
            projects: usize,
            matched: usize,
            unmatched: usize,
            first_choice: u32,
            second_choice: u32,
            third_choice: u32,
            later_choice: u32,
            seats: u64,
            open_seats: u64,
        }

        /// The output as serde_json wrote it before the hand-written renderer.
        pub(super) fn serde_render(round: &Round) -> String {
            let instance = &round.instance;
            let matching = Prepared::new(instance).solve();
            let details = matching.details(instance.capacities());
            let (tid, pid) = (&round.talent_ids, &round.project_ids);

            let mut assignments: Vec<AssignmentOut<'_>> = matching
                .as_slice()
                .iter()
                .enumerate()
                .filter_map(|(t, a)| {
                    a.map(|a| AssignmentOut {
                        talent: &tid[t],
                        project: &pid[a.project as usize],
                        rank: a.rank.get(),
                    })
                })
                .collect();
            assignments.sort_unstable_by(|a, b| a.talent.cmp(b.talent));
            let mut unmatched_talents: Vec<&str> = details
                .unmatched
                .iter()
                .map(|&t| tid[t as usize].as_str())
                .collect();
            unmatched_talents.sort_unstable();
            let open_seats = pid
                .iter()
                .map(String::as_str)
                .zip(details.open_seats.iter().copied())
                .collect();
            let summary = SummaryOut {
                talents: tid.len(),
                projects: pid.len(),
                matched: details.matched,
                unmatched: details.unmatched.len(),
                first_choice: details.at_rank(1),
                second_choice: details.at_rank(2),
                third_choice: details.at_rank(3),
                later_choice: details.by_rank.iter().skip(3).sum(),
                seats: instance.capacities().iter().map(|&c| u64::from(c)).sum(),
                open_seats: details.open_seats.iter().map(|&c| u64::from(c)).sum(),
            };
            serde_json::to_string(&SolveOut {
                assignments,
                unmatched_talents,
                open_seats,
                summary,
            })
            .unwrap()
        }
    }

    /// Awkward ids: quotes, backslashes, control characters, non-ASCII, long and prefix ids.
    fn awkward_id(side: char, i: u32) -> String {
        const PARTS: [&str; 8] = [
            "",
            "\"",
            "\\",
            "\n\t\u{1}\u{1f}",
            "岩手",
            "👩‍🌾",
            "-a-long-shared-prefix-",
            "\u{7f}",
        ];
        format!("{side}{}{i}", PARTS[(i % 8) as usize])
    }

    /// Ids that need no escape in JSON, so the one-pass reader takes them.
    fn plain_id(side: char, i: u32) -> String {
        const PARTS: [&str; 5] = ["", "岩手/", "a-long-shared-prefix-of-ids-", "x y", "'"];
        format!("{}{side}{i}", PARTS[(i % 5) as usize])
    }

    fn small_round(seed: u64, id: fn(char, u32) -> String) -> Round {
        let shape = crate::synth::Shape {
            talents: 300,
            projects: 40,
            prefs_per_talent: 6,
            capacity: 3,
        };
        let instance = crate::synth::generate(&shape, seed);
        Round {
            talent_ids: (0..shape.talents).map(|t| id('t', t)).collect(),
            project_ids: (0..shape.projects).map(|p| id('p', p)).collect(),
            instance,
        }
    }

    /// The round as `solve` input, written with serde_json; `spaced` adds whitespace,
    /// puts `prefs` first and adds fields the reader skips.
    fn round_json(round: &Round, spaced: bool) -> String {
        let inst = &round.instance;
        let names = |ids: &[String], list: &[u32]| -> Vec<String> {
            list.iter().map(|&i| ids[i as usize].clone()).collect()
        };
        let talents: Vec<Value> = (0..inst.num_talents() as u32)
            .map(|t| {
                let prefs = names(&round.project_ids, inst.talent_prefs(t));
                if spaced {
                    serde_json::json!({"prefs": prefs, "note": {"a": [1, null, true]}, "id": round.talent_ids[t as usize]})
                } else {
                    serde_json::json!({"id": round.talent_ids[t as usize], "prefs": prefs})
                }
            })
            .collect();
        let projects: Vec<Value> = (0..inst.num_projects() as u32)
            .map(|p| {
                serde_json::json!({
                    "id": round.project_ids[p as usize],
                    "capacity": inst.capacities()[p as usize],
                    "prefs": names(&round.talent_ids, inst.project_prefs(p)),
                })
            })
            .collect();
        if spaced {
            // Projects before talents: every id is referenced before it is defined.
            let doc =
                serde_json::json!({"projects": projects, "talents": talents, "round": "2025"});
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            serde_json::json!({"talents": talents, "projects": projects}).to_string()
        }
    }

    #[test]
    fn output_is_byte_identical_to_serde_json() {
        for seed in 0..6 {
            for id in [awkward_id, plain_id] {
                let round = small_round(seed, id);
                assert_eq!(render_solution(&round), oracle::serde_render(&round));
            }
        }
    }

    #[test]
    fn one_pass_reader_agrees_with_the_general_readers() {
        for seed in 0..6 {
            let round = small_round(seed, plain_id);
            let want = oracle::serde_render(&round);
            for spaced in [false, true] {
                let input = round_json(&round, spaced);
                assert!(scan::read_round(&input).is_some(), "spaced: {spaced}");
                assert_eq!(solve_json(&input).unwrap(), want, "spaced: {spaced}");
                let general = parse_round(&parse_document(&input).unwrap(), "").unwrap();
                assert_eq!(render_solution(&general), want);
            }
            // Escaped ids go the general way, to the same result.
            let round = small_round(seed, awkward_id);
            let input = round_json(&round, false);
            assert!(scan::read_round(&input).is_none());
            assert_eq!(solve_json(&input).unwrap(), oracle::serde_render(&round));
        }
    }

    #[test]
    fn large_documents_read_on_two_threads_agree() {
        // Over a megabyte, so the `projects` array is read ahead on its own thread.
        let shape = crate::synth::Shape {
            talents: 12_000,
            projects: 800,
            prefs_per_talent: 8,
            capacity: 10,
        };
        let round = Round {
            instance: crate::synth::generate(&shape, 5),
            talent_ids: (0..shape.talents).map(|t| plain_id('t', t)).collect(),
            project_ids: (0..shape.projects).map(|p| plain_id('p', p)).collect(),
        };
        let want = oracle::serde_render(&round);
        let plain = round_json(&round, false);
        assert!(plain.len() > 1 << 20);
        // A decoy key makes the guessed start wrong: the first thread reads it all.
        let decoy = format!(r#"{{"meta": {{"projects": ["x"]}}, {}"#, &plain[1..]);
        for input in [plain, round_json(&round, true), decoy] {
            assert!(scan::read_round(&input).is_some());
            assert_eq!(solve_json(&input).unwrap(), want);
        }
    }

    #[test]
    fn solve_line_ends_with_one_newline() {
        let line = solve_line(ROUND).unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(
            &line[..line.len() - 1],
            solve_json(ROUND).unwrap().as_bytes()
        );
    }
}
