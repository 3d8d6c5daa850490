//! Custom questions on an event's registration form, and on the logistics form that
//! approved registrants fill in (travel, lodging, dietary needs): what a coordinator
//! may ask, and the answers a registrant may give.

use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem, one_line};

pub const QUESTIONS_MAX: usize = 8;
pub const LABEL_MAX: usize = 200;
pub const OPTIONS_MAX: usize = 20;
pub const OPTION_MAX: usize = 100;
pub const ANSWER_MAX: usize = 1000;

// Field names are `&'static str` so that errors carry no allocation; a question is
// named by its place on the form, which is stable while an event is edited.
macro_rules! keys {
    ($p:literal, $s:literal) => {
        [
            concat!($p, "1", $s),
            concat!($p, "2", $s),
            concat!($p, "3", $s),
            concat!($p, "4", $s),
            concat!($p, "5", $s),
            concat!($p, "6", $s),
            concat!($p, "7", $s),
            concat!($p, "8", $s),
        ]
    };
}

/// The field names of one form's questions, by place.
#[derive(Debug, Clone, Copy)]
pub struct FormKeys {
    pub answer: [&'static str; QUESTIONS_MAX],
    pub label: [&'static str; QUESTIONS_MAX],
    pub kind: [&'static str; QUESTIONS_MAX],
    pub options: [&'static str; QUESTIONS_MAX],
    pub required: [&'static str; QUESTIONS_MAX],
}

/// The registration form's questions: answers `q1`…, definitions `q1_label`….
pub const REGISTRATION: FormKeys = FormKeys {
    answer: keys!("q", ""),
    label: keys!("q", "_label"),
    kind: keys!("q", "_kind"),
    options: keys!("q", "_options"),
    required: keys!("q", "_required"),
};

/// The logistics form's questions: answers `l1`…, definitions `l1_label`….
pub const LOGISTICS: FormKeys = FormKeys {
    answer: keys!("l", ""),
    label: keys!("l", "_label"),
    kind: keys!("l", "_kind"),
    options: keys!("l", "_options"),
    required: keys!("l", "_required"),
};

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Text,
    Choice,
    YesNo,
}

impl QuestionKind {
    pub const ALL: &'static [QuestionKind] = &[
        QuestionKind::Text,
        QuestionKind::Choice,
        QuestionKind::YesNo,
    ];

    pub fn code(self) -> &'static str {
        match self {
            QuestionKind::Text => "text",
            QuestionKind::Choice => "choice",
            QuestionKind::YesNo => "yes_no",
        }
    }

    pub fn parse(code: &str) -> Option<QuestionKind> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// One question as the event form posts it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QuestionInput {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub kind: String,
    /// One option a line.
    #[serde(default)]
    pub options: String,
    /// A ticked box posts something (`on`); an unticked one posts nothing.
    #[serde(default)]
    pub required: String,
}

impl QuestionInput {
    fn is_blank(&self) -> bool {
        self.label.trim().is_empty() && self.options.trim().is_empty()
    }
}

/// A checked question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The answer's field name (`q1`, `l2`): its place on the form.
    pub key: String,
    pub label: String,
    pub kind: QuestionKind,
    /// Only for a choice: at least two, each once.
    pub options: Vec<String>,
    pub required: bool,
}

/// Whether a posted box is ticked.
pub fn ticked(value: &str) -> bool {
    matches!(value.trim(), "on" | "true" | "1" | "yes")
}

/// Checks a form's question definitions; blank rows are skipped, and each question
/// keeps the key of its place so errors and answers line up with the form.
pub fn check_questions(
    keys: &FormKeys,
    inputs: &[QuestionInput],
    errors: &mut Vec<FieldError>,
) -> Vec<Question> {
    let mut out = Vec::new();
    if inputs.len() > QUESTIONS_MAX {
        errors.push(FieldError {
            field: keys.label[QUESTIONS_MAX - 1],
            problem: Problem::TooMany { max: QUESTIONS_MAX },
        });
    }
    for (i, q) in inputs.iter().enumerate().take(QUESTIONS_MAX) {
        if q.is_blank() {
            continue;
        }
        let label = one_line(&q.label);
        if label.is_empty() {
            errors.push(FieldError {
                field: keys.label[i],
                problem: Problem::Required,
            });
        } else if label.chars().count() > LABEL_MAX {
            errors.push(FieldError {
                field: keys.label[i],
                problem: Problem::TooLong { max: LABEL_MAX },
            });
        }
        let Some(kind) = QuestionKind::parse(q.kind.trim()) else {
            errors.push(FieldError {
                field: keys.kind[i],
                problem: Problem::InvalidChoice,
            });
            continue;
        };
        let mut options: Vec<String> = Vec::new();
        if kind == QuestionKind::Choice {
            for line in q.options.lines() {
                let o = one_line(line);
                if o.is_empty() || options.contains(&o) {
                    continue;
                }
                if o.chars().count() > OPTION_MAX {
                    errors.push(FieldError {
                        field: keys.options[i],
                        problem: Problem::TooLong { max: OPTION_MAX },
                    });
                    break;
                }
                options.push(o);
            }
            if options.len() < 2 {
                errors.push(FieldError {
                    field: keys.options[i],
                    problem: Problem::TooShort { min: 2 },
                });
            } else if options.len() > OPTIONS_MAX {
                errors.push(FieldError {
                    field: keys.options[i],
                    problem: Problem::TooMany { max: OPTIONS_MAX },
                });
            }
        }
        out.push(Question {
            key: keys.answer[i].to_owned(),
            label,
            kind,
            options,
            required: ticked(&q.required),
        });
    }
    out
}

/// A registrant's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Answer {
    Text(String),
    /// The option's text as the question had it when answered.
    Choice(String),
    YesNo(bool),
}

/// The answers to a form, by question key, in the form's order; unanswered optional
/// questions are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers(pub Vec<(String, Answer)>);

impl Answers {
    pub fn get(&self, key: &str) -> Option<&Answer> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, a)| a)
    }
}

/// The static field name of a question key, for its errors.
fn field_of(key: &str) -> &'static str {
    REGISTRATION
        .answer
        .iter()
        .chain(LOGISTICS.answer.iter())
        .copied()
        .find(|k| *k == key)
        .unwrap_or("answers")
}

/// Checks submitted answers (`(field, value)` pairs as posted) against the questions.
/// Pairs for unknown fields are ignored; a field posted twice counts once (the first).
pub fn check_answers(
    questions: &[Question],
    submitted: &[(String, String)],
) -> Result<Answers, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut answers = Vec::new();
    for q in questions {
        let field = field_of(&q.key);
        let raw = submitted
            .iter()
            .find(|(k, _)| *k == q.key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let value = raw.trim().replace("\r\n", "\n");
        if value.is_empty() {
            if q.required {
                errors.push(FieldError {
                    field,
                    problem: Problem::Required,
                });
            }
            continue;
        }
        let answer = match q.kind {
            QuestionKind::Text => {
                if value.chars().count() > ANSWER_MAX {
                    errors.push(FieldError {
                        field,
                        problem: Problem::TooLong { max: ANSWER_MAX },
                    });
                    continue;
                }
                // Control characters other than line breaks have no place in an answer
                // that staff read and export to CSV, nor have the bidirectional
                // overrides that make text read differently from what it is.
                Answer::Text(
                    value
                        .chars()
                        .filter(|c| *c == '\n' || !c.is_control())
                        .filter(
                            |c| !matches!(*c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'),
                        )
                        .collect(),
                )
            }
            QuestionKind::Choice => match q.options.iter().find(|o| **o == value) {
                Some(o) => Answer::Choice(o.clone()),
                None => {
                    errors.push(FieldError {
                        field,
                        problem: Problem::InvalidChoice,
                    });
                    continue;
                }
            },
            QuestionKind::YesNo => match value.as_str() {
                "yes" => Answer::YesNo(true),
                "no" => Answer::YesNo(false),
                _ => {
                    errors.push(FieldError {
                        field,
                        problem: Problem::InvalidChoice,
                    });
                    continue;
                }
            },
        };
        answers.push((q.key.clone(), answer));
    }
    if errors.is_empty() {
        Ok(Answers(answers))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(label: &str, kind: &str, options: &str, required: &str) -> QuestionInput {
        QuestionInput {
            label: label.into(),
            kind: kind.into(),
            options: options.into(),
            required: required.into(),
        }
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn questions() -> Vec<Question> {
        let mut errors = Vec::new();
        let qs = check_questions(
            &REGISTRATION,
            &[
                q("ご所属", "text", "", "on"),
                q("", "", "", ""),
                q("参加方法の希望", "choice", "会場\nオンライン\n会場\n\n", ""),
                q("懇親会に参加しますか", "yes_no", "ignored", "on"),
            ],
            &mut errors,
        );
        assert_eq!(errors, vec![]);
        qs
    }

    #[test]
    fn definitions_keep_their_place() {
        let qs = questions();
        let keys: Vec<&str> = qs.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(keys, ["q1", "q3", "q4"]);
        assert_eq!(qs[1].options, ["会場", "オンライン"]);
        assert!(qs[2].options.is_empty());
        assert!(qs[0].required && !qs[1].required);
    }

    #[test]
    fn bad_definitions_name_their_field() {
        let mut errors = Vec::new();
        let long = "あ".repeat(LABEL_MAX + 1);
        check_questions(
            &LOGISTICS,
            &[
                q("", "text", "x", ""),
                q("食事", "essay", "", ""),
                q("宿泊", "choice", "する", ""),
                q(&long, "text", "", ""),
            ],
            &mut errors,
        );
        let fields: Vec<(&str, Problem)> = errors.iter().map(|e| (e.field, e.problem)).collect();
        assert_eq!(
            fields,
            [
                ("l1_label", Problem::Required),
                ("l2_kind", Problem::InvalidChoice),
                ("l3_options", Problem::TooShort { min: 2 }),
                ("l4_label", Problem::TooLong { max: LABEL_MAX }),
            ]
        );
        let mut errors = Vec::new();
        let many = vec![q("a", "text", "", ""); QUESTIONS_MAX + 1];
        assert_eq!(
            check_questions(&REGISTRATION, &many, &mut errors).len(),
            QUESTIONS_MAX
        );
        assert_eq!(errors[0].problem, Problem::TooMany { max: QUESTIONS_MAX });
        let mut errors = Vec::new();
        let options = (0..=OPTIONS_MAX).map(|i| i.to_string()).collect::<Vec<_>>();
        check_questions(
            &REGISTRATION,
            &[q("x", "choice", &options.join("\n"), "")],
            &mut errors,
        );
        assert_eq!(errors[0].field, "q1_options");
    }

    #[test]
    fn answers_checked() {
        let qs = questions();
        let answers = check_answers(
            &qs,
            &pairs(&[
                ("q1", " 株式会社A\r\n営業部\u{7} "),
                ("q3", "オンライン"),
                ("q4", "no"),
                ("q9", "ignored"),
                ("q1", "second"),
            ]),
        )
        .unwrap();
        assert_eq!(
            answers.get("q1"),
            Some(&Answer::Text("株式会社A\n営業部".into()))
        );
        let bidi = check_answers(
            &qs,
            &pairs(&[("q1", "abc\u{202E}txt.exe\u{2066}"), ("q4", "yes")]),
        )
        .unwrap();
        assert_eq!(bidi.get("q1"), Some(&Answer::Text("abctxt.exe".into())));
        assert_eq!(
            answers.get("q3"),
            Some(&Answer::Choice("オンライン".into()))
        );
        assert_eq!(answers.get("q4"), Some(&Answer::YesNo(false)));
        // An optional question left empty is absent.
        let answers = check_answers(&qs, &pairs(&[("q1", "x"), ("q4", "yes")])).unwrap();
        assert_eq!(answers.0.len(), 2);
    }

    #[test]
    fn hostile_answers_name_the_question() {
        let qs = questions();
        let errors = check_answers(
            &qs,
            &pairs(&[("q1", "   "), ("q3", "会場<script>"), ("q4", "true")]),
        )
        .unwrap_err();
        let fields: Vec<(&str, Problem)> = errors.iter().map(|e| (e.field, e.problem)).collect();
        assert_eq!(
            fields,
            [
                ("q1", Problem::Required),
                ("q3", Problem::InvalidChoice),
                ("q4", Problem::InvalidChoice),
            ]
        );
        let long = "a".repeat(ANSWER_MAX + 1);
        let errors = check_answers(&qs, &pairs(&[("q1", &long), ("q4", "yes")])).unwrap_err();
        assert_eq!(errors[0].problem, Problem::TooLong { max: ANSWER_MAX });
        assert_eq!(check_answers(&[], &[]), Ok(Answers::default()));
    }
}
