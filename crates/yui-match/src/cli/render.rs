//! The `solve` output written straight into one byte buffer.
//!
//! The text is exactly what serde_json gives for the output structs (compact, fields in
//! declaration order, strings escaped the same way), without building those structs or
//! a map of open seats first; a test compares both on awkward ids.

use crate::solve::Matching;

/// Appends the `solve` output for `matching` (no trailing newline).
pub(super) fn solution<S: AsRef<str>>(
    matching: &Matching,
    capacity: &[u32],
    talent_ids: &[S],
    project_ids: &[S],
    out: &mut Vec<u8>,
) {
    let details = matching.details(capacity);
    let id_bytes: usize = talent_ids.iter().map(|id| id.as_ref().len()).sum::<usize>()
        + project_ids
            .iter()
            .map(|id| id.as_ref().len())
            .sum::<usize>();
    // Ids twice at most (escaping aside) plus the fixed text around each entry.
    out.reserve(2 * id_bytes + 48 * talent_ids.len() + 16 * project_ids.len() + 256);

    let talents = by_id(talent_ids);
    out.extend_from_slice(b"{\"assignments\":[");
    let mut first = true;
    for &t in &talents {
        let Some(a) = matching.get(t) else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"talent\":");
        string(out, talent_ids[t as usize].as_ref());
        out.extend_from_slice(b",\"project\":");
        string(out, project_ids[a.project as usize].as_ref());
        out.extend_from_slice(b",\"rank\":");
        number(out, u64::from(a.rank.get()));
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"unmatched_talents\":[");
    let mut first = true;
    for &t in &talents {
        if matching.get(t).is_some() {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        string(out, talent_ids[t as usize].as_ref());
    }
    drop(talents);
    out.extend_from_slice(b"],\"open_seats\":{");
    for (i, &p) in by_id(project_ids).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, project_ids[p as usize].as_ref());
        out.push(b':');
        number(out, u64::from(details.open_seats[p as usize]));
    }
    let later: u32 = details.by_rank.iter().skip(3).sum();
    let seats: u64 = capacity.iter().map(|&c| u64::from(c)).sum();
    let open: u64 = details.open_seats.iter().map(|&c| u64::from(c)).sum();
    let summary = [
        ("talents", talent_ids.len() as u64),
        ("projects", project_ids.len() as u64),
        ("matched", details.matched as u64),
        ("unmatched", details.unmatched.len() as u64),
        ("first_choice", u64::from(details.at_rank(1))),
        ("second_choice", u64::from(details.at_rank(2))),
        ("third_choice", u64::from(details.at_rank(3))),
        ("later_choice", u64::from(later)),
        ("seats", seats),
        ("open_seats", open),
    ];
    out.extend_from_slice(b"},\"summary\":{");
    for (i, (name, value)) in summary.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        number(out, value);
    }
    out.extend_from_slice(b"}}");
}

/// Indices of `ids` in byte order of the ids (ids are distinct, so the order is total).
fn by_id<S: AsRef<str>>(ids: &[S]) -> Vec<u32> {
    // Sorting on the first 16 bytes as a big-endian integer settles almost every
    // comparison without following a pointer to the text; zero padding keeps the order
    // of a prefix before its extensions, and equal keys fall back to the whole ids.
    let mut keyed: Vec<(u128, u32)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let bytes = id.as_ref().as_bytes();
            let mut head = [0u8; 16];
            let n = bytes.len().min(16);
            head[..n].copy_from_slice(&bytes[..n]);
            (u128::from_be_bytes(head), i as u32)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| ids[a.1 as usize].as_ref().cmp(ids[b.1 as usize].as_ref()))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, control characters as
/// `\b \t \n \f \r` or `\u00XX` (lowercase hex), everything else as is.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Almost every id needs no escape; a branch-free pass over the bytes says so.
    let special = bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !special {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0x00..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + 1;
        if short == 0 {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.push(b'\\');
            out.push(short);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

fn number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let mut all_controls: String = (0u8..0x20).map(char::from).collect();
        all_controls.push('\u{7f}');
        let cases = [
            "plain",
            "",
            r#"quote " and backslash \"#,
            "tab\tnewline\ncr\rbell\u{7}nul\0",
            "岩手・盛岡 👩‍🌾",
            "\u{2028}\u{2029}</script>",
            &all_controls,
        ];
        for s in cases {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "for {s:?}"
            );
        }
    }

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 99, 1_000_000, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn ids_sort_in_byte_order() {
        let ids = [
            "t10",
            "t9",
            "a\0",
            "a",
            "same-first-sixteen-b",
            "same-first-sixteen-a",
            "same-first-sixteen",
            "Ω",
            "z",
            "",
        ];
        let mut want: Vec<&str> = ids.to_vec();
        want.sort_unstable();
        let got: Vec<&str> = by_id(&ids).iter().map(|&i| ids[i as usize]).collect();
        assert_eq!(got, want);
    }
}
