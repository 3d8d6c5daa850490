//! The staff forms' inputs: labelled by `evs_field_<name>` (numbered fields such as
//! `day2_date` or `q3_label` by `evs_field_day_date` with the number filled in),
//! each with its error in the person's language, and the error summary.

use chrono::NaiveDate;
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_domain::fiscal::{FiscalYear, tokyo};

use crate::AppState;
use crate::features::hosts::form::{ErrorLine, keep};
use crate::render::{date_text, labelled_message};

/// The longest value a form shows again (the event description's limit).
const SHOWN_MAX: usize = yui_domain::event::DESCRIPTION_MAX;

pub(crate) fn text(state: &AppState, locale: Locale, key: &str) -> String {
    state.inner.catalogs.text(locale, key).to_owned()
}

/// Today in Tokyo, where every program's dates are.
pub(crate) fn today(state: &AppState) -> NaiveDate {
    state.now().with_timezone(&tokyo()).date_naive()
}

#[derive(Debug, Serialize)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One labelled input as `evs_field.html` draws it.
#[derive(Debug, Serialize)]
pub(crate) struct Field {
    pub name: &'static str,
    pub label: String,
    /// `text`, `number`, `date`, `time`, `datetime-local`, `url`, `textarea`,
    /// `select`, `radio` or `checkbox`.
    pub input_type: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub hint: Option<String>,
    pub choices: Vec<Choice>,
    pub checked: bool,
}

/// `day3_date` → (`day`, `3`, `date`); `q1_label` → (`q`, `1`, `label`).
fn numbered(name: &str) -> Option<(&str, &str, &str)> {
    for prefix in ["day", "q", "l"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                let (n, tail) = rest.split_at(digits);
                return Some((prefix, n, tail.trim_start_matches('_')));
            }
        }
    }
    None
}

/// Builds one form's inputs in the person's language.
pub(crate) struct Form<'a> {
    pub state: &'a AppState,
    pub locale: Locale,
    pub errors: &'a [FieldError],
    /// The program's year, which event dates must fall in.
    pub year: Option<FiscalYear>,
}

impl Form<'_> {
    pub(crate) fn label(&self, name: &str) -> String {
        match numbered(name) {
            Some((prefix, n, "")) => {
                text(self.state, self.locale, &format!("evs_field_{prefix}")).replace("{n}", n)
            }
            Some((prefix, n, tail)) => text(
                self.state,
                self.locale,
                &format!("evs_field_{prefix}_{tail}"),
            )
            .replace("{n}", n),
            None => text(self.state, self.locale, &format!("evs_field_{name}")),
        }
    }

    pub(crate) fn message(&self, e: &FieldError) -> String {
        let label = self.label(e.field);
        // A day outside the program's year: name the year, not the generic range.
        if let (Problem::DateOutOfRange, Some(year), Some(("day", _, _))) =
            (e.problem, self.year, numbered(e.field))
            && let (Some(first), Some(last)) = (year.first_day(), year.last_day())
        {
            let sep = if self.locale == Locale::Ja {
                "："
            } else {
                ": "
            };
            let why = text(self.state, self.locale, "evs_err_outside_year")
                .replace("{from}", &date_text(self.locale, first))
                .replace("{to}", &date_text(self.locale, last));
            return format!("{label}{sep}{why}");
        }
        if (e.field, e.problem) == ("fiscal_year", Problem::Taken) {
            let sep = if self.locale == Locale::Ja {
                "："
            } else {
                ": "
            };
            return format!(
                "{label}{sep}{}",
                text(self.state, self.locale, "evs_err_year_taken")
            );
        }
        labelled_message(self.state, self.locale, &label, e.problem)
    }

    pub(crate) fn summary(&self) -> Vec<ErrorLine> {
        self.errors
            .iter()
            .map(|e| ErrorLine {
                field: e.field,
                message: self.message(e),
            })
            .collect()
    }

    pub(crate) fn field(
        &self,
        name: &'static str,
        input_type: &'static str,
        value: &str,
        required: bool,
    ) -> Field {
        Field {
            name,
            label: self.label(name),
            input_type,
            value: keep(value, SHOWN_MAX),
            error: self
                .errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| self.message(e)),
            required,
            hint: None,
            choices: Vec::new(),
            checked: false,
        }
    }

    /// A select (or radio group) of `(value, label)` choices.
    pub(crate) fn choose(
        &self,
        name: &'static str,
        input_type: &'static str,
        options: Vec<(String, String)>,
        chosen: &str,
        required: bool,
    ) -> Field {
        let mut f = self.field(name, input_type, "", required);
        f.choices = options
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == chosen.trim(),
                value,
                label,
            })
            .collect();
        f
    }

    pub(crate) fn check(&self, name: &'static str, checked: bool) -> Field {
        let mut f = self.field(name, "checkbox", "", false);
        f.checked = checked;
        f
    }

    pub(crate) fn hint(&self, mut f: Field, key: &str) -> Field {
        f.hint = Some(text(self.state, self.locale, key));
        f
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbered_names() {
        assert_eq!(super::numbered("day3_date"), Some(("day", "3", "date")));
        assert_eq!(super::numbered("q1_label"), Some(("q", "1", "label")));
        assert_eq!(super::numbered("l8_required"), Some(("l", "8", "required")));
        assert_eq!(super::numbered("logistics_form"), None);
        assert_eq!(super::numbered("description"), None);
    }
}
