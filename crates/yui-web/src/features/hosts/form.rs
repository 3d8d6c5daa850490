//! Form pieces shared by the host and project pages: labelled inputs, text areas,
//! choices and check boxes, each with its error in the person's language, and the
//! error summary. Labels are the messages `hp_field_<name>`.

use serde::Serialize;
use yui_domain::Locale;
use yui_domain::account::FieldError;

use crate::AppState;
use crate::render::labelled_message;

/// How an input is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    Text,
    Url,
    Email,
    /// Digits only (`inputmode="numeric"`), so full-width digits can still be typed.
    Number,
    Textarea,
    Select,
    Checkboxes,
}

/// One choice of a select or a check-box group.
#[derive(Debug, Serialize)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One labelled input as `hp_field.html` draws it.
#[derive(Debug, Serialize)]
pub(crate) struct Input {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub hint: Option<String>,
    pub choices: Vec<Choice>,
}

/// What a form shows again of a value: all of it up to `max` characters (the
/// field's own limit), nothing beyond (the field's error says why), so a huge post
/// does not come back as a huge page.
pub(crate) fn keep(value: &str, max: usize) -> String {
    if value.chars().nth(max).is_some() {
        String::new()
    } else {
        value.to_owned()
    }
}

/// The label of field `name`.
pub(crate) fn label(state: &AppState, locale: Locale, name: &str) -> String {
    state
        .inner
        .catalogs
        .text(locale, &format!("hp_field_{name}"))
        .to_owned()
}

/// Field errors as sentences naming their fields, for inputs and the summary.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorLine {
    pub field: &'static str,
    pub message: String,
}

pub(crate) fn error_lines(
    state: &AppState,
    locale: Locale,
    errors: &[FieldError],
) -> Vec<ErrorLine> {
    errors
        .iter()
        .map(|e| ErrorLine {
            field: e.field,
            message: labelled_message(state, locale, &label(state, locale, e.field), e.problem),
        })
        .collect()
}

/// Builds the inputs of one form in the person's language.
pub(crate) struct Builder<'a> {
    pub state: &'a AppState,
    pub locale: Locale,
    pub errors: &'a [FieldError],
}

impl Builder<'_> {
    pub(crate) fn input(
        &self,
        name: &'static str,
        kind: Kind,
        value: &str,
        max: usize,
        required: bool,
    ) -> Input {
        Input {
            name,
            label: label(self.state, self.locale, name),
            kind,
            value: keep(value, max),
            error: self.errors.iter().find(|e| e.field == name).map(|e| {
                labelled_message(
                    self.state,
                    self.locale,
                    &label(self.state, self.locale, name),
                    e.problem,
                )
            }),
            required,
            hint: None,
            choices: Vec::new(),
        }
    }

    /// A select (`Kind::Select`) or check-box group (`Kind::Checkboxes`) of
    /// `(value, label)` choices, `chosen` selected.
    pub(crate) fn choices(
        &self,
        name: &'static str,
        kind: Kind,
        options: Vec<(String, String)>,
        chosen: &[String],
        required: bool,
    ) -> Input {
        let mut input = self.input(name, kind, "", 0, required);
        input.choices = options
            .into_iter()
            .map(|(value, label)| Choice {
                selected: chosen.contains(&value),
                value,
                label,
            })
            .collect();
        input
    }

    pub(crate) fn hint(&self, mut input: Input, key: &str) -> Input {
        input.hint = Some(self.state.inner.catalogs.text(self.locale, key).to_owned());
        input
    }
}
