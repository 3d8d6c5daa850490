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

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::check::{Violation, check};
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
    /// The report as JSON (one line, newline-terminated).
    pub json: String,
    /// True when there are no violations and no blocking pairs.
    pub ok: bool,
}

/// A round read from JSON: the index-based instance and the ids behind the indices.
#[derive(Clone, Debug)]
pub struct Round {
    pub instance: Instance,
    pub talent_ids: Vec<String>,
    pub project_ids: Vec<String>,
}

/// Runs `yui match solve`: returns the JSON text to print (one line, newline-terminated).
pub fn solve_json(input: &str) -> Result<String, InputError> {
    let doc = parse_document(input)?;
    let round = parse_round(&doc, "")?;
    drop(doc);
    Ok(render_solution(&round))
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
    let root_path = if prefix.is_empty() {
        "input".to_owned()
    } else {
        prefix.trim_end_matches('.').to_owned()
    };
    let obj = doc.as_object().ok_or_else(|| {
        InputError::new(
            &root_path,
            r#"expected an object with "talents" and "projects""#,
        )
    })?;
    let talents = array_field(obj, "talents", prefix)?;
    let projects = array_field(obj, "projects", prefix)?;

    // Ids first: every list may name participants that come later.
    let mut talent_index = HashMap::with_capacity(talents.len());
    let mut talent_ids = Vec::with_capacity(talents.len());
    let mut talent_lists = Vec::with_capacity(talents.len());
    for (i, item) in talents.iter().enumerate() {
        let path = || format!("{prefix}talents[{i}]");
        let (id, prefs) = participant(item, &path)?;
        if let Some(&first) = talent_index.get(id) {
            return Err(InputError::new(
                format!("{}.id", path()),
                format!("duplicate talent id {id:?} (also {prefix}talents[{first}])"),
            ));
        }
        talent_index.insert(id, i as u32);
        talent_ids.push(id.to_owned());
        talent_lists.push(prefs);
    }
    let mut project_index = HashMap::with_capacity(projects.len());
    let mut project_ids = Vec::with_capacity(projects.len());
    let mut project_lists = Vec::with_capacity(projects.len());
    let mut capacities = Vec::with_capacity(projects.len());
    for (i, item) in projects.iter().enumerate() {
        let path = || format!("{prefix}projects[{i}]");
        let (id, prefs) = participant(item, &path)?;
        if let Some(&first) = project_index.get(id) {
            return Err(InputError::new(
                format!("{}.id", path()),
                format!("duplicate project id {id:?} (also {prefix}projects[{first}])"),
            ));
        }
        capacities.push(capacity(item, &path)?);
        project_index.insert(id, i as u32);
        project_ids.push(id.to_owned());
        project_lists.push(prefs);
    }

    let mut builder = Instance::builder();
    let mut list = Vec::new();
    for (i, prefs) in talent_lists.iter().enumerate() {
        resolve(prefs, &project_index, "project", &mut list, |j| {
            format!("{prefix}talents[{i}].prefs[{j}]")
        })?;
        builder.talent(&list);
    }
    for (i, prefs) in project_lists.iter().enumerate() {
        resolve(prefs, &talent_index, "talent", &mut list, |j| {
            format!("{prefix}projects[{i}].prefs[{j}]")
        })?;
        builder.project(capacities[i], &list);
    }
    let instance = build(builder, &talent_ids, &project_ids, prefix)?;
    Ok(Round {
        instance,
        talent_ids,
        project_ids,
    })
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
        Some(Value::String(id)) if id.is_empty() => {
            return Err(InputError::new(
                format!("{}.id", path()),
                "must not be empty",
            ));
        }
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
fn resolve(
    prefs: &[Value],
    index: &HashMap<&str, u32>,
    what: &str,
    out: &mut Vec<u32>,
    path: impl Fn(usize) -> String,
) -> Result<(), InputError> {
    out.clear();
    for (j, v) in prefs.iter().enumerate() {
        let Value::String(id) = v else {
            return Err(InputError::new(
                path(j),
                format!("expected a {what} id (string), got {}", kind(v)),
            ));
        };
        match index.get(id.as_str()) {
            Some(&k) => out.push(k),
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

fn parse_assignments(value: Option<&Value>, round: &Round) -> Result<Vec<(u32, u32)>, InputError> {
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
    let index = |ids: &[String]| -> HashMap<String, u32> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect()
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
        let lookup = |field: &str, ids: &HashMap<String, u32>| -> Result<u32, InputError> {
            let path = format!("assignments[{i}].{field}");
            match item.get(field) {
                None => Err(InputError::new(path, "missing")),
                Some(Value::String(id)) => ids
                    .get(id)
                    .copied()
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

/// Solves a parsed round and renders the `solve` output.
pub fn render_solution(round: &Round) -> String {
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
    to_line(&SolveOut {
        assignments,
        unmatched_talents,
        open_seats,
        summary,
    })
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
                    message: format!("{p} has {assigned} talents assigned but {capacity} seats"),
                }
            }
        }
    }
}

fn to_line<T: Serialize>(value: &T) -> String {
    // Serializing plain structs, strings and integers cannot fail.
    let mut json = serde_json::to_string(value).unwrap_or_default();
    json.push('\n');
    json
}
