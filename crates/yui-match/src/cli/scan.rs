//! The fast reader of `solve` input: one pass over the text, then one lookup per entry.
//!
//! Generic JSON readers spend most of a large round's time building lists of strings that
//! are thrown away once every id is turned into an index. This reader walks the bytes
//! once, indexes the ids each array defines, and writes the preference lists straight
//! into CSR arrays as the byte offsets of the ids they name; a second pass replaces each
//! offset by the position of the id it points to. On a large document both passes use
//! two threads: the `projects` array is read on a second thread while the first reads
//! the rest (its start is guessed by searching for the key, and the guess is used only if
//! the first thread reaches that key at exactly that place, so a wrong guess costs time,
//! never a result), and each thread then resolves half of the entries.
//!
//! It only answers for documents it understands completely: anything unusual (escapes in
//! strings, repeated keys, unknown ids, capacities that are not plain integers, deep
//! nesting in extra fields, any error at all) gives `None`, and the caller reads the
//! document again with the general readers, which give the same results on what this one
//! accepts and name the offending field on what it does not. Whatever this reader accepts
//! is valid JSON that serde_json reads the same way.

use std::thread::ScopedJoinHandle;

use crate::ids::{GROUP, IdIndex};
use crate::instance::Instance;

/// Documents from this size on are read on two threads.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// A round read by [`read_round`], ids borrowed from the input.
#[derive(Debug)]
pub(super) struct Scanned<'a> {
    pub(super) instance: Instance,
    pub(super) talent_ids: Vec<&'a str>,
    pub(super) project_ids: Vec<&'a str>,
}

/// Reads `{"talents": […], "projects": […]}`, or gives `None` (see the module's note).
pub(super) fn read_round(input: &str) -> Option<Scanned<'_>> {
    // Entries hold byte offsets.
    u32::try_from(input.len()).ok()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parallel = input.len() >= PARALLEL_MIN_BYTES && cores > 1;
    let (mut talents, mut projects) = std::thread::scope(|scope| {
        let mut ahead = parallel.then(|| {
            scope.spawn(|| {
                let start = projects_array_start(input)?;
                let mut reader = Reader::at(input, start);
                let part = Part::read(&mut reader, Kind::Projects)?;
                Some((start, part, reader.pos))
            })
        });
        let mut reader = Reader::at(input, 0);
        let (mut talents, mut projects) = (None, None);
        reader.object(|reader, key| match key {
            "talents" if talents.is_none() => {
                talents = Some(Part::read(reader, Kind::Talents)?);
                Some(())
            }
            "projects" if projects.is_none() => {
                reader.peek()?;
                let read_ahead = match ahead.take() {
                    Some(thread) => join(thread),
                    None => None,
                };
                let part = match read_ahead {
                    Some((start, part, end)) if start == reader.pos => {
                        reader.pos = end;
                        part
                    }
                    _ => Part::read(reader, Kind::Projects)?,
                };
                projects = Some(part);
                Some(())
            }
            "talents" | "projects" => None,
            _ => reader.skip(0),
        })?;
        reader.end()?;
        Some((talents?, projects?))
    })?;
    // Talents' entries name projects, projects' entries name talents.
    let (defined_talents, defined_projects) = (&talents.defined, &projects.defined);
    let (talent_half, talent_rest) = halves(&mut talents.prefs, parallel);
    let (project_half, project_rest) = halves(&mut projects.prefs, parallel);
    std::thread::scope(|scope| {
        let other = parallel.then(|| {
            scope.spawn(|| {
                resolve(input, talent_rest, defined_projects)?;
                resolve(input, project_rest, defined_talents)
            })
        });
        let here = resolve(input, talent_half, defined_projects)
            .and_then(|()| resolve(input, project_half, defined_talents));
        match other {
            Some(other) => join(other).and(here),
            None => here,
        }
    })?;
    join_parts(talents, projects)
}

/// Splits `entries` in two when they are resolved on two threads.
fn halves(entries: &mut [u32], parallel: bool) -> (&mut [u32], &mut [u32]) {
    let mid = if parallel { entries.len() / 2 } else { 0 };
    let (first, second) = entries.split_at_mut(mid);
    (second, first)
}

fn join<T>(thread: ScopedJoinHandle<'_, Option<T>>) -> Option<T> {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Where the value of the first `"projects"` key seems to start: its `[`.
fn projects_array_start(input: &str) -> Option<usize> {
    input.match_indices("\"projects\"").find_map(|(at, key)| {
        let mut reader = Reader::at(input, at + key.len());
        reader.eat(b':')?;
        (reader.peek()? == b'[').then_some(reader.pos)
    })
}

/// Replaces byte offsets of ids by their positions in `defined`, a group at a time
/// (see [`IdIndex::get_many`]).
fn resolve(input: &str, entries: &mut [u32], defined: &IdIndex<'_>) -> Option<()> {
    let mut ids = [""; GROUP];
    let mut found = [None; GROUP];
    for group in entries.chunks_mut(GROUP) {
        for (id, &at) in ids.iter_mut().zip(group.iter()) {
            *id = id_at(input, at)?;
        }
        defined.get_many(&ids[..group.len()], &mut found);
        for (entry, position) in group.iter_mut().zip(found) {
            *entry = position?;
        }
    }
    Some(())
}

/// The id whose text starts at byte `at` (the reader checked it: it ends at the next quote).
#[inline]
fn id_at(input: &str, at: u32) -> Option<&str> {
    let start = at as usize;
    let len = input
        .as_bytes()
        .get(start..)?
        .iter()
        .position(|&b| b == b'"')?;
    input.get(start..start + len)
}

/// Which array a [`Part`] was read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Talents,
    Projects,
}

/// One array read on its own: the ids it defines and its lists, whose entries are the
/// byte offsets of the ids they name until [`resolve`] runs.
struct Part<'a> {
    /// Id → position in the array (built once the array is read).
    defined: IdIndex<'a>,
    /// Position → id.
    ids: Vec<&'a str>,
    start: Vec<u32>,
    prefs: Vec<u32>,
    /// Projects only.
    capacity: Vec<u32>,
}

impl<'a> Part<'a> {
    fn read(reader: &mut Reader<'a>, kind: Kind) -> Option<Self> {
        let mut part = Part {
            defined: IdIndex::default(),
            ids: Vec::new(),
            start: vec![0],
            prefs: Vec::new(),
            capacity: Vec::new(),
        };
        reader.array(|reader| part.participant(reader, kind))?;
        // Indexed once the count is known: a table sized once is filled without rehashing.
        part.defined = IdIndex::with_capacity(part.ids.len());
        for (position, &id) in part.ids.iter().enumerate() {
            if part.defined.insert(id, position as u32).is_some() {
                return None;
            }
        }
        Some(part)
    }

    /// `{"id": …, "prefs": […]}` (and `"capacity"` for a project) in any order, other
    /// fields skipped.
    fn participant(&mut self, reader: &mut Reader<'a>, kind: Kind) -> Option<()> {
        u32::try_from(self.ids.len()).ok()?;
        let (mut id, mut prefs, mut capacity) = (false, false, None);
        let Self {
            ids,
            prefs: entries,
            ..
        } = self;
        reader.object(|reader, key| match key {
            "id" if !id => {
                id = true;
                ids.push(reader.id()?);
                Some(())
            }
            "prefs" if !prefs => {
                prefs = true;
                reader.array(|reader| {
                    reader.id()?;
                    // Offsets fit: the input is shorter than 4 GiB.
                    entries.push(reader.last_string_start as u32);
                    Some(())
                })
            }
            "capacity" if kind == Kind::Projects && capacity.is_none() => {
                capacity = Some(reader.seats()?);
                Some(())
            }
            "id" | "prefs" => None,
            "capacity" if kind == Kind::Projects => None,
            _ => reader.skip(0),
        })?;
        if !(id && prefs) {
            return None;
        }
        if kind == Kind::Projects {
            self.capacity.push(capacity?);
        }
        self.start.push(u32::try_from(self.prefs.len()).ok()?);
        Some(())
    }
}

fn join_parts<'a>(talents: Part<'a>, projects: Part<'a>) -> Option<Scanned<'a>> {
    // Repeated entries in a list and oversized rounds are caught here.
    let instance = Instance::from_csr(
        talents.start,
        talents.prefs,
        projects.start,
        projects.prefs,
        projects.capacity,
    )
    .ok()?;
    Some(Scanned {
        instance,
        talent_ids: talents.ids,
        project_ids: projects.ids,
    })
}

/// Nesting allowed inside skipped fields (serde_json allows 128 levels in all).
const MAX_SKIP_DEPTH: usize = 64;

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Where the contents of the last string read begin.
    last_string_start: usize,
}

impl<'a> Reader<'a> {
    fn at(text: &'a str, pos: usize) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos,
            last_string_start: 0,
        }
    }

    /// The next byte after JSON whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        if self.peek()? == byte {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// Only whitespace may follow the document.
    fn end(&mut self) -> Option<()> {
        match self.peek() {
            None => Some(()),
            Some(_) => None,
        }
    }

    /// A string without escapes or control characters, borrowed from the input.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        self.last_string_start = start;
        let rest = self.bytes.get(start..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends are ASCII quotes, so the slice falls on character boundaries.
        self.text.get(start..start + len)
    }

    /// A participant id: a non-empty string.
    #[inline]
    fn id(&mut self) -> Option<&'a str> {
        self.string().filter(|id| !id.is_empty())
    }

    /// A capacity: a plain decimal integer that fits in `u32`.
    fn seats(&mut self) -> Option<u32> {
        self.peek()?;
        let digits = self.integer_digits()?;
        if digits.starts_with('-') {
            return None;
        }
        digits.parse().ok()
    }

    /// `-?(0|[1-9][0-9]*)` of at most 18 digits (so it is a valid i64/u64 for any reader),
    /// not followed by a fraction or exponent.
    fn integer_digits(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let first = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let n = self.pos - first;
        if n == 0 || n > 18 || (n > 1 && self.bytes[first] == b'0') {
            return None;
        }
        if matches!(self.bytes.get(self.pos), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.text.get(start..self.pos)
    }

    /// `[a, b, …]`, calling `item` with the reader at each element.
    #[inline]
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `{"k": v, …}`, calling `field` with each key and the reader at its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skips a value of a field the round does not use.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_SKIP_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'[' => self.array(|r| r.skip(depth + 1)),
            b'{' => self.object(|r, _| r.skip(depth + 1)),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.integer_digits().map(drop),
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? == word.as_bytes() {
            self.pos = end;
            Some(())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids<'a>(scanned: &Scanned<'a>) -> (Vec<&'a str>, Vec<&'a str>) {
        (scanned.talent_ids.clone(), scanned.project_ids.clone())
    }

    #[test]
    fn reads_fields_in_any_order_and_skips_extras() {
        let input = r#" {"note": {"a": [1, -2, true, false, null, "x", {}]},
            "projects": [{"prefs": ["b", "a"], "capacity": 2, "id": "p"},
                         {"id": "q", "prefs": [], "capacity": 0, "tags": []}],
            "talents": [{"prefs": ["q", "p"], "id": "a"}, {"id": "b", "x": "y", "prefs": ["p"]}]} "#;
        let scanned = read_round(input).unwrap();
        assert_eq!(ids(&scanned), (vec!["a", "b"], vec!["p", "q"]));
        let inst = &scanned.instance;
        assert_eq!(inst.talent_prefs(0), &[1, 0]);
        assert_eq!(inst.talent_prefs(1), &[0]);
        assert_eq!(inst.project_prefs(0), &[1, 0]);
        assert!(inst.project_prefs(1).is_empty());
        assert_eq!(inst.capacities(), &[2, 0]);
    }

    #[test]
    fn gives_way_on_anything_unusual() {
        let round = |talents: &str, projects: &str| {
            format!(r#"{{"talents": [{talents}], "projects": [{projects}]}}"#)
        };
        let p = r#"{"id": "p", "capacity": 1, "prefs": ["t"]}"#;
        let t = r#"{"id": "t", "prefs": ["p"]}"#;
        assert!(read_round(&round(t, p)).is_some());
        let cases = [
            round(r#"{"id": "t\u0031", "prefs": ["p"]}"#, p),
            round(r#"{"id": "t", "id": "t", "prefs": ["p"]}"#, p),
            round(r#"{"id": "t", "prefs": ["p"], "prefs": ["p"]}"#, p),
            round(r#"{"id": "t", "prefs": ["p", "p"]}"#, p),
            round(r#"{"id": "t", "prefs": ["x"]}"#, p),
            round(r#"{"id": "", "prefs": ["p"]}"#, p),
            round(r#"{"id": "t", "prefs": [1]}"#, p),
            round(r#"{"id": "t"}"#, p),
            round(&format!("{t}, {t}"), p),
            round(t, r#"{"id": "p", "capacity": 1.0, "prefs": ["t"]}"#),
            round(t, r#"{"id": "p", "capacity": -0, "prefs": ["t"]}"#),
            round(t, r#"{"id": "p", "capacity": 01, "prefs": ["t"]}"#),
            round(t, r#"{"id": "p", "capacity": 4294967296, "prefs": ["t"]}"#),
            round(t, r#"{"id": "p", "prefs": ["t"]}"#),
            round(t, r#"{"id": "p", "capacity": 1, "prefs": ["t"], "x": 1e3}"#),
            round(
                t,
                r#"{"id": "p", "capacity": 1, "prefs": ["t"], "x": "a\nb"}"#,
            ),
            round(t, r#"{"id": "p", "capacity": 1, "prefs": ["t"], "x": tru}"#),
            round(&format!("{t},"), p),
            format!("{} x", round(t, p)),
            format!(r#"{{"talents": [{t}], "talents": [], "projects": [{p}]}}"#),
            format!(r#"{{"talents": [{t}]}}"#),
            format!(
                r#"{{"talents": [{t}], "projects": [{p}], "deep": {}{}}}"#,
                "[".repeat(70),
                "]".repeat(70)
            ),
            "\u{feff}".to_owned() + &round(t, p),
        ];
        for input in cases {
            assert!(read_round(&input).is_none(), "accepted {input}");
        }
    }

    #[test]
    fn raw_non_ascii_ids_are_borrowed() {
        let input = r#"{"talents": [{"id": "田中", "prefs": ["岩手/1"]}],
            "projects": [{"id": "岩手/1", "capacity": 1, "prefs": ["田中"]}]}"#;
        let scanned = read_round(input).unwrap();
        assert_eq!(ids(&scanned), (vec!["田中"], vec!["岩手/1"]));
    }
}
