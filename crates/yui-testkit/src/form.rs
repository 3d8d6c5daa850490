//! Forms filled in as a person does in a browser: a test GETs a page, takes a form the
//! page rendered, fills in fields by name and submits it with its own client (and so
//! its cookies), encoded as a browser encodes it.
//!
//! ```ignore
//! let page = Page::get(&client, &app.url("/signup")).await;
//! let mut form = page.form("/signup");
//! form.set("email", "hanako@example.jp").set("password", "a long passphrase");
//! let res = form.submit(&client).await;
//! ```
//!
//! A field the page does not render is an error that names the fields it does render,
//! so renaming a field in a template breaks the tests that fill it in. `set` does only
//! what a person can do (type into a text field, choose a listed option); a test of a
//! request no browser would send says so with [`Form::forge`], [`Form::remove`] or
//! [`Form::retarget`], still starting from the rendered form.
//!
//! Supported: `application/x-www-form-urlencoded` forms (GET and POST); `<input>` of
//! every type but `file` with a value (submitted empty), `<select>` (single and
//! multiple), `<textarea>`, submit buttons (`<button>`, `<input type=submit|image>`,
//! with `formaction` and `formmethod`), controls outside the form tied to it by
//! `form="id"`, disabled controls and fieldsets, and `<base href>`.

use std::collections::BTreeSet;
use std::fmt;

use reqwest::{Method, StatusCode, Url};
use scraper::{ElementRef, Html, Selector};

/// A page a test fetched: where it came from, its status and its HTML.
#[derive(Debug, Clone)]
pub struct Page {
    url: Url,
    status: StatusCode,
    html: String,
}

impl Page {
    /// GETs `url` with `client` (which keeps its cookies, as a browser does).
    pub async fn get(client: &reqwest::Client, url: &str) -> Page {
        let res = client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        Page::read(res).await
    }

    /// The page a response carries, e.g. a form shown again with its errors.
    pub async fn read(res: reqwest::Response) -> Page {
        let url = res.url().clone();
        let status = res.status();
        let html = res
            .text()
            .await
            .unwrap_or_else(|e| panic!("the body of {url}: {e}"));
        Page { url, status, html }
    }

    /// A page from HTML in hand, as if read from `url`.
    pub fn new(url: &str, html: impl Into<String>) -> Page {
        Page {
            url: Url::parse(url).unwrap_or_else(|e| panic!("page URL {url}: {e}")),
            status: StatusCode::OK,
            html: html.into(),
        }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn html(&self) -> &str {
        &self.html
    }

    /// Every form on the page, in document order.
    pub fn forms(&self) -> Vec<Form> {
        parse_forms(&self.html, &self.url)
    }

    /// The form that submits to `action` (resolved against the page as a browser
    /// resolves it, so `/signup` matches `action="/signup"` and `action="signup"`).
    /// Panics when the page has no such form, or several.
    #[track_caller]
    pub fn form(&self, action: &str) -> Form {
        let target = self
            .url
            .join(action)
            .unwrap_or_else(|e| panic!("form action {action}: {e}"));
        let mut found: Vec<Form> = self
            .forms()
            .into_iter()
            .filter(|f| f.action == target)
            .collect();
        match found.len() {
            1 => found.remove(0),
            0 => panic!(
                "{} has no form that submits to {action}; {}",
                self.describe(),
                self.list_forms()
            ),
            n => panic!(
                "{} has {n} forms that submit to {action}; take one from forms()",
                self.describe()
            ),
        }
    }

    /// The page's only form. Panics when it has none, or several.
    #[track_caller]
    pub fn only_form(&self) -> Form {
        let mut forms = self.forms();
        match forms.len() {
            1 => forms.remove(0),
            _ => panic!(
                "{} does not have exactly one form; {}",
                self.describe(),
                self.list_forms()
            ),
        }
    }

    /// The page's first form. Panics when it has none.
    #[track_caller]
    pub fn first_form(&self) -> Form {
        self.forms()
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{} has no form", self.describe()))
    }

    fn describe(&self) -> String {
        format!("the page {} ({})", self.url, self.status)
    }

    fn list_forms(&self) -> String {
        let forms: Vec<String> = self
            .forms()
            .iter()
            .map(|f| format!("{} {}", f.method, f.action))
            .collect();
        if forms.is_empty() {
            "it has no forms at all".to_owned()
        } else {
            format!("its forms: {}", forms.join(", "))
        }
    }
}

/// One form of a page, with the values a person has given its fields so far.
#[derive(Debug, Clone)]
pub struct Form {
    /// The page's base URL, against which actions resolve.
    base: Url,
    method: Method,
    action: Url,
    /// Controls in document order; unnamed ones are submit buttons (they may still be
    /// the button that submits).
    fields: Vec<Field>,
    /// The button that submits, as an index into `fields`; the first submit button when
    /// none was pressed.
    pressed: Option<usize>,
    /// Values sent in place of the fields', or fields left out: requests no browser
    /// would send.
    overrides: Vec<(String, Override)>,
    /// `enctype="multipart/form-data"`: sent as a browser sends files.
    multipart: bool,
    /// Files chosen for file inputs: (name, file name, content type, bytes).
    files: Vec<(String, String, String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
enum Override {
    Forged(String),
    Removed,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    disabled: bool,
    readonly: bool,
    max_length: Option<usize>,
}

#[derive(Debug, Clone)]
enum Kind {
    Hidden(String),
    /// An `<input>` a person types into, with its `type`.
    Input {
        input_type: String,
        value: String,
    },
    TextArea(String),
    Checkbox {
        value: String,
        checked: bool,
    },
    Radio {
        value: String,
        checked: bool,
    },
    Select {
        options: Vec<Choice>,
        multiple: bool,
    },
    File,
    Button(Button),
}

#[derive(Debug, Clone)]
struct Choice {
    value: String,
    selected: bool,
    disabled: bool,
}

#[derive(Debug, Clone)]
struct Button {
    value: String,
    image: bool,
    formaction: Option<Url>,
    formmethod: Option<Method>,
}

impl Kind {
    fn label(&self) -> &str {
        match self {
            Kind::Hidden(_) => "hidden",
            Kind::Input { input_type, .. } => input_type,
            Kind::TextArea(_) => "textarea",
            Kind::Checkbox { .. } => "checkbox",
            Kind::Radio { .. } => "radio",
            Kind::Select {
                multiple: false, ..
            } => "select",
            Kind::Select { multiple: true, .. } => "select multiple",
            Kind::File => "file",
            Kind::Button(_) => "button",
        }
    }
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the form {} {}", self.method, self.action)
    }
}

impl Form {
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Where the form submits to, resolved against its page.
    pub fn action(&self) -> &Url {
        &self.action
    }

    /// The names of the form's fields (inputs, selects, text areas and buttons with a
    /// name), each once, in document order.
    pub fn field_names(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.fields
            .iter()
            .map(|f| f.name.as_str())
            .filter(|n| !n.is_empty() && seen.insert(*n))
            .collect()
    }

    /// The first value the form would send for `name`, if any.
    pub fn value(&self, name: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Types `value` into a text field or text area, or chooses the option or radio
    /// button with that value. Panics when the form has no such field, or when a
    /// person could not do it (a hidden, disabled or read-only field, an option the
    /// page does not offer, a line break in a one-line field, more characters than
    /// `maxlength`, an invalid date in a date field).
    #[track_caller]
    pub fn set(&mut self, name: &str, value: &str) -> &mut Form {
        let at = self.named(name);
        let form = self.to_string();
        self.overrides.retain(|(n, _)| n != name);
        let first = &self.fields[at[0]];
        match &first.kind {
            Kind::Radio { .. } => {
                let choices: Vec<&str> = at
                    .iter()
                    .filter_map(|&i| match &self.fields[i].kind {
                        Kind::Radio { value, .. } => Some(value.as_str()),
                        _ => None,
                    })
                    .collect();
                let Some(&pick) = at.iter().find(|&&i| {
                    matches!(&self.fields[i].kind, Kind::Radio { value: v, .. } if v == value)
                }) else {
                    panic!("{form}: the radio buttons `{name}` offer no {value:?}; they offer {choices:?}")
                };
                assert!(
                    !self.fields[pick].disabled,
                    "{form}: the radio button `{name}` = {value:?} is disabled"
                );
                for &i in &at {
                    if let Kind::Radio { checked, .. } = &mut self.fields[i].kind {
                        *checked = i == pick;
                    }
                }
            }
            Kind::Select { .. } => {
                let i = self.single(name, &at);
                let field = &mut self.fields[i];
                assert!(!field.disabled, "{form}: the select `{name}` is disabled");
                let Kind::Select { options, .. } = &mut field.kind else {
                    unreachable!()
                };
                let offered: Vec<&str> = options
                    .iter()
                    .filter(|o| !o.disabled)
                    .map(|o| o.value.as_str())
                    .collect();
                assert!(
                    offered.contains(&value),
                    "{form}: the select `{name}` offers no {value:?}; it offers {offered:?} (use forge() for a value no browser would send)"
                );
                let mut chosen = false;
                for o in options.iter_mut() {
                    o.selected = !chosen && !o.disabled && o.value == value;
                    chosen |= o.selected;
                }
            }
            Kind::Input { .. } | Kind::TextArea(_) => {
                let i = self.single(name, &at);
                let field = &mut self.fields[i];
                assert!(!field.disabled, "{form}: the field `{name}` is disabled");
                assert!(!field.readonly, "{form}: the field `{name}` is read-only");
                if let Some(max) = field.max_length {
                    assert!(
                        value.encode_utf16().count() <= max,
                        "{form}: a person cannot type more than {max} characters into `{name}` (use forge())"
                    );
                }
                match &mut field.kind {
                    Kind::Input {
                        input_type,
                        value: v,
                    } => {
                        assert!(
                            !value.contains(['\r', '\n']),
                            "{form}: a person cannot type a line break into the one-line field `{name}` (use forge())"
                        );
                        assert!(
                            input_type != "date" || value.is_empty() || is_valid_date(value),
                            "{form}: the date field `{name}` cannot hold {value:?}: a browser sends only valid YYYY-MM-DD dates (use forge())"
                        );
                        *v = value.to_owned();
                    }
                    Kind::TextArea(v) => *v = value.to_owned(),
                    _ => unreachable!(),
                }
            }
            Kind::Hidden(_) => panic!(
                "{form}: `{name}` is a hidden field, which a person cannot change (use forge() for a request no browser would send)"
            ),
            Kind::Checkbox { .. } => {
                panic!("{form}: `{name}` is a checkbox: use check() or uncheck()")
            }
            Kind::Button(_) => panic!("{form}: `{name}` is a button: use press()"),
            Kind::File => panic!("{form}: `{name}` is a file field, which this helper cannot fill"),
        }
        self
    }

    /// Ticks the checkbox `name`.
    #[track_caller]
    pub fn check(&mut self, name: &str) -> &mut Form {
        self.tick(name, true)
    }

    /// Clears the checkbox `name`: an unticked checkbox sends nothing.
    #[track_caller]
    pub fn uncheck(&mut self, name: &str) -> &mut Form {
        self.tick(name, false)
    }

    #[track_caller]
    fn tick(&mut self, name: &str, on: bool) -> &mut Form {
        let at = self.named(name);
        let i = self.single(name, &at);
        let form = self.to_string();
        let field = &mut self.fields[i];
        assert!(!field.disabled, "{form}: the checkbox `{name}` is disabled");
        let Kind::Checkbox { checked, .. } = &mut field.kind else {
            panic!(
                "{form}: `{name}` is a {}, not a checkbox",
                field.kind.label()
            )
        };
        *checked = on;
        self.overrides.retain(|(n, _)| n != name);
        self
    }

    /// Ticks (or clears) the one checkbox of the group `name` whose value is `value`,
    /// as a person ticks one box of a list of choices sharing a name.
    #[track_caller]
    pub fn check_value(&mut self, name: &str, value: &str, on: bool) -> &mut Form {
        let at = self.named(name);
        let form = self.to_string();
        let offered: Vec<String> = at
            .iter()
            .filter_map(|&i| match &self.fields[i].kind {
                Kind::Checkbox { value, .. } => Some(value.clone()),
                _ => None,
            })
            .collect();
        let Some(&i) = at.iter().find(
            |&&i| matches!(&self.fields[i].kind, Kind::Checkbox { value: v, .. } if v == value),
        ) else {
            panic!("{form}: the checkboxes `{name}` offer no {value:?}; they offer {offered:?}")
        };
        assert!(
            !self.fields[i].disabled,
            "{form}: the checkbox `{name}` = {value:?} is disabled"
        );
        if let Kind::Checkbox { checked, .. } = &mut self.fields[i].kind {
            *checked = on;
        }
        self.overrides.retain(|(n, _)| n != name);
        self
    }

    /// Submits with the button `name` instead of the form's first submit button.
    #[track_caller]
    pub fn press(&mut self, name: &str) -> &mut Form {
        let at = self.named(name);
        let i = self.single(name, &at);
        assert!(
            matches!(self.fields[i].kind, Kind::Button(_)),
            "{self}: `{name}` is a {}, not a button",
            self.fields[i].kind.label()
        );
        assert!(
            !self.fields[i].disabled,
            "{self}: the button `{name}` is disabled"
        );
        self.pressed = Some(i);
        self
    }

    /// Sends `value` for the field `name` whatever the field allows: a request no
    /// browser would send (another CSRF token, an option the page does not offer).
    /// The field must still be one the page renders.
    #[track_caller]
    pub fn forge(&mut self, name: &str, value: &str) -> &mut Form {
        self.named(name);
        self.overrides.retain(|(n, _)| n != name);
        self.overrides
            .push((name.to_owned(), Override::Forged(value.to_owned())));
        self
    }

    /// Leaves the field `name` out of the request (e.g. the CSRF token).
    #[track_caller]
    pub fn remove(&mut self, name: &str) -> &mut Form {
        self.named(name);
        self.overrides.retain(|(n, _)| n != name);
        self.overrides.push((name.to_owned(), Override::Removed));
        self
    }

    /// Sends the form to `action` (resolved against its page) instead of where the page
    /// said: a request no browser would send.
    #[track_caller]
    pub fn retarget(&mut self, action: &str) -> &mut Form {
        self.action = self
            .base
            .join(action)
            .unwrap_or_else(|e| panic!("action {action}: {e}"));
        self
    }

    /// What a browser would send, in order: each named, enabled control's value (a
    /// checked box or radio button, a select's chosen options, the button that
    /// submits), with line breaks as CR LF.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let submitter = self.submitter();
        let mut overridden = BTreeSet::new();
        let mut out = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            let name = field.name.as_str();
            if name.is_empty() && !matches!(&field.kind, Kind::Button(b) if b.image) {
                continue;
            }
            if let Some((_, o)) = self.overrides.iter().find(|(n, _)| n == name) {
                if overridden.insert(name)
                    && let Override::Forged(v) = o
                {
                    out.push((name.to_owned(), v.clone()));
                }
                continue;
            }
            if field.disabled {
                continue;
            }
            match &field.kind {
                Kind::Hidden(v) | Kind::Input { value: v, .. } | Kind::TextArea(v) => {
                    out.push((name.to_owned(), v.clone()))
                }
                Kind::Checkbox { value, checked } | Kind::Radio { value, checked } => {
                    if *checked {
                        out.push((name.to_owned(), value.clone()));
                    }
                }
                Kind::Select { options, .. } => out.extend(
                    options
                        .iter()
                        .filter(|o| o.selected && !o.disabled)
                        .map(|o| (name.to_owned(), o.value.clone())),
                ),
                Kind::File => out.push((name.to_owned(), String::new())),
                Kind::Button(b) if submitter == Some(i) => {
                    if b.image {
                        let prefix = if name.is_empty() {
                            String::new()
                        } else {
                            format!("{name}.")
                        };
                        out.push((format!("{prefix}x"), "0".to_owned()));
                        out.push((format!("{prefix}y"), "0".to_owned()));
                    } else {
                        out.push((name.to_owned(), b.value.clone()));
                    }
                }
                Kind::Button(_) => {}
            }
        }
        out.into_iter().map(|(n, v)| (crlf(&n), crlf(&v))).collect()
    }

    /// Chooses a file for the file input `name`, as a person picking it does: the
    /// browser sends its name and the type it guesses from it, `content_type`.
    /// Panics when the form has no such file input or is not a multipart form.
    #[track_caller]
    pub fn attach(
        &mut self,
        name: &str,
        file_name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> &mut Form {
        let at = self.named(name);
        assert!(
            matches!(self.fields[at[0]].kind, Kind::File),
            "{self}: `{name}` is not a file input"
        );
        assert!(
            self.multipart,
            "{self} is not enctype=multipart/form-data: a browser would send only the file's name"
        );
        self.files.retain(|(n, ..)| n != name);
        self.files.push((
            name.to_owned(),
            file_name.to_owned(),
            content_type.to_owned(),
            bytes,
        ));
        self
    }

    /// The request a browser would make on submitting the form, to send as it is or
    /// with headers added.
    pub fn request(&self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let (method, action) = self.target();
        let pairs = self.pairs();
        if method == Method::POST && self.multipart {
            let mut form = reqwest::multipart::Form::new();
            for (name, value) in pairs {
                let file = self
                    .fields
                    .iter()
                    .any(|f| f.name == name && matches!(f.kind, Kind::File));
                if !file {
                    form = form.text(name, value);
                    continue;
                }
                // A file input sends its chosen file, or an empty part without one.
                let (file_name, content_type, bytes) = self
                    .files
                    .iter()
                    .find(|(n, ..)| *n == name)
                    .map(|(_, f, c, b)| (f.clone(), c.clone(), b.clone()))
                    .unwrap_or_else(|| {
                        (
                            String::new(),
                            "application/octet-stream".to_owned(),
                            Vec::new(),
                        )
                    });
                let part = reqwest::multipart::Part::bytes(bytes)
                    .file_name(file_name)
                    .mime_str(&content_type)
                    .unwrap_or_else(|e| panic!("content type {content_type}: {e}"));
                form = form.part(name, part);
            }
            client.post(action).multipart(form)
        } else if method == Method::POST {
            client.post(action).form(&pairs)
        } else {
            // A GET form replaces the action's query with its fields.
            let mut url = action;
            url.set_query(None);
            client.get(url).query(&pairs)
        }
    }

    /// Submits the form with `client`, as clicking its submit button does.
    pub async fn submit(&self, client: &reqwest::Client) -> reqwest::Response {
        self.request(client)
            .send()
            .await
            .unwrap_or_else(|e| panic!("submitting {self}: {e}"))
    }

    /// Where and how the form goes: the submit button's `formaction`/`formmethod`
    /// win over the form's own.
    fn target(&self) -> (Method, Url) {
        let button = self.submitter().and_then(|i| match &self.fields[i].kind {
            Kind::Button(b) => Some(b),
            _ => None,
        });
        if let Some(i) = self.submitter() {
            assert!(
                !self.fields[i].disabled,
                "{self}: its submit button is disabled, so a person cannot submit it"
            );
        }
        let method = button
            .and_then(|b| b.formmethod.clone())
            .unwrap_or_else(|| self.method.clone());
        let action = button
            .and_then(|b| b.formaction.clone())
            .unwrap_or_else(|| self.action.clone());
        (method, action)
    }

    fn submitter(&self) -> Option<usize> {
        self.pressed.or_else(|| {
            self.fields
                .iter()
                .position(|f| matches!(f.kind, Kind::Button(_)))
        })
    }

    /// The fields called `name`; panics, naming the form's fields, when there is none.
    #[track_caller]
    fn named(&self, name: &str) -> Vec<usize> {
        let at: Vec<usize> = self
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !name.is_empty() && f.name == name)
            .map(|(i, _)| i)
            .collect();
        if at.is_empty() {
            let fields: Vec<String> = self
                .field_names()
                .into_iter()
                .map(|n| {
                    let kind = self
                        .fields
                        .iter()
                        .find(|f| f.name == n)
                        .map(|f| f.kind.label());
                    format!("{n} ({})", kind.unwrap_or("?"))
                })
                .collect();
            panic!(
                "{self} has no field `{name}`; its fields: {}",
                fields.join(", ")
            );
        }
        at
    }

    #[track_caller]
    fn single(&self, name: &str, at: &[usize]) -> usize {
        assert!(
            at.len() == 1,
            "{self} has {} fields called `{name}`; this helper fills one at a time (use forge())",
            at.len()
        );
        at[0]
    }
}

/// Line breaks as a form submission sends them: CR LF.
fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

/// Whether `s` is a valid date string (`YYYY-MM-DD`, a day that exists), the only
/// value a date field holds.
fn is_valid_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts[..] else { return false };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if y.len() < 4 || m.len() != 2 || d.len() != 2 || !(digits(y) && digits(m) && digits(d)) {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (y.parse::<u64>(), m.parse::<u32>(), d.parse::<u32>())
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year > 0 && (1..=days).contains(&day)
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e}"))
}

fn parse_method(value: Option<&str>) -> Option<Method> {
    match value?.trim().to_ascii_lowercase().as_str() {
        "post" => Some(Method::POST),
        "get" => Some(Method::GET),
        "dialog" => panic!("a method=dialog form closes a dialog; it sends nothing"),
        _ => None,
    }
}

fn parse_forms(html: &str, page: &Url) -> Vec<Form> {
    let doc = Html::parse_document(html);
    let base = doc
        .select(&selector("base[href]"))
        .next()
        .and_then(|b| page.join(b.attr("href").unwrap_or_default()).ok())
        .unwrap_or_else(|| page.clone());
    let resolve = |action: Option<&str>| match action.map(str::trim) {
        // No action, or an empty one: the page itself.
        None | Some("") => page.clone(),
        Some(a) => base
            .join(a)
            .unwrap_or_else(|e| panic!("form action {a}: {e}")),
    };
    let elements: Vec<ElementRef> = doc.select(&selector("form")).collect();
    let mut forms: Vec<Form> = elements
        .iter()
        .map(|f| {
            let mut multipart = false;
            if let Some(enctype) = f.attr("enctype") {
                let enctype = enctype.trim().to_ascii_lowercase();
                multipart = enctype == "multipart/form-data";
                assert!(
                    multipart
                        || enctype.is_empty()
                        || enctype == "application/x-www-form-urlencoded",
                    "a form with enctype={enctype} cannot be submitted by this helper"
                );
            }
            Form {
                multipart,
                files: Vec::new(),
                base: base.clone(),
                method: parse_method(f.attr("method")).unwrap_or(Method::GET),
                action: resolve(f.attr("action")),
                fields: Vec::new(),
                pressed: None,
                overrides: Vec::new(),
            }
        })
        .collect();
    for control in doc.select(&selector("input, select, textarea, button")) {
        let owner = match control.attr("form") {
            Some(id) => elements.iter().position(|f| f.attr("id") == Some(id)),
            None => control
                .ancestors()
                .find(|a| ElementRef::wrap(*a).is_some_and(|e| e.value().name() == "form"))
                .and_then(|form| elements.iter().position(|f| f.id() == form.id())),
        };
        let Some(owner) = owner else { continue };
        if let Some(field) = field_of(control, &resolve) {
            forms[owner].fields.push(field);
        }
    }
    forms
}

/// The field a control makes, if it takes part in a submission.
fn field_of(el: ElementRef, resolve: &dyn Fn(Option<&str>) -> Url) -> Option<Field> {
    let name = el.attr("name").unwrap_or_default().to_owned();
    let tag = el.value().name();
    let value = el.attr("value").unwrap_or_default().to_owned();
    let button = |image: bool| {
        Kind::Button(Button {
            value: value.clone(),
            image,
            formaction: el.attr("formaction").map(|a| resolve(Some(a))),
            formmethod: parse_method(el.attr("formmethod")),
        })
    };
    let kind = match tag {
        "input" => match el
            .attr("type")
            .unwrap_or("text")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "hidden" => Kind::Hidden(value),
            "checkbox" => Kind::Checkbox {
                value: el.attr("value").unwrap_or("on").to_owned(),
                checked: el.attr("checked").is_some(),
            },
            "radio" => Kind::Radio {
                value: el.attr("value").unwrap_or("on").to_owned(),
                checked: el.attr("checked").is_some(),
            },
            "submit" => button(false),
            "image" => button(true),
            "reset" | "button" => return None,
            "file" => Kind::File,
            input_type @ ("text" | "search" | "tel" | "url" | "email" | "password" | "date"
            | "month" | "week" | "time" | "datetime-local" | "number" | "range"
            | "color") => Kind::Input {
                input_type: input_type.to_owned(),
                value,
            },
            // Unknown types are text fields.
            _ => Kind::Input {
                input_type: "text".to_owned(),
                value,
            },
        },
        "button" => match el
            .attr("type")
            .unwrap_or("submit")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "reset" | "button" => return None,
            _ => button(false),
        },
        "textarea" => Kind::TextArea(el.text().collect()),
        "select" => select_of(el),
        _ => return None,
    };
    if name.is_empty() && !matches!(kind, Kind::Button(_)) {
        return None;
    }
    Some(Field {
        name,
        kind,
        disabled: is_disabled(el),
        readonly: el.attr("readonly").is_some(),
        max_length: el.attr("maxlength").and_then(|m| m.trim().parse().ok()),
    })
}

/// A select with its options chosen as a browser chooses them when the page loads.
fn select_of(el: ElementRef) -> Kind {
    let multiple = el.attr("multiple").is_some();
    let mut options: Vec<Choice> =
        el.select(&selector("option"))
            .map(|o| {
                let in_disabled_group = o.parent().and_then(ElementRef::wrap).is_some_and(|p| {
                    p.value().name() == "optgroup" && p.attr("disabled").is_some()
                });
                Choice {
                    value: match o.attr("value") {
                        Some(v) => v.to_owned(),
                        None => o
                            .text()
                            .collect::<String>()
                            .split_ascii_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                    },
                    selected: o.attr("selected").is_some(),
                    disabled: o.attr("disabled").is_some() || in_disabled_group,
                }
            })
            .collect();
    if !multiple {
        // One choice: the last marked selected, or else (in a drop-down) the first
        // option that is not disabled.
        if let Some(last) = options.iter().rposition(|o| o.selected) {
            for (i, o) in options.iter_mut().enumerate() {
                o.selected = i == last;
            }
        } else if el
            .attr("size")
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(1)
            <= 1
            && let Some(first) = options.iter_mut().find(|o| !o.disabled)
        {
            first.selected = true;
        }
    }
    Kind::Select { options, multiple }
}

/// Disabled itself, or inside a disabled fieldset (but not in that fieldset's first
/// legend).
fn is_disabled(el: ElementRef) -> bool {
    if el.attr("disabled").is_some() {
        return true;
    }
    let mut below = *el;
    for ancestor in el.ancestors() {
        if let Some(fieldset) = ElementRef::wrap(ancestor)
            && fieldset.value().name() == "fieldset"
            && fieldset.attr("disabled").is_some()
        {
            let first_legend = fieldset
                .children()
                .filter_map(ElementRef::wrap)
                .find(|c| c.value().name() == "legend");
            if first_legend.is_none_or(|legend| legend.id() != below.id()) {
                return true;
            }
        }
        below = ancestor;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><title>t</title></head><body>
<form method="post" action="/signout"><input type="hidden" name="csrf" value="tok"><button type="submit">Sign out</button></form>
<form method="POST" action="signup" novalidate>
  <input type="hidden" name="csrf" value="tok">
  <input name="display_name" value="Taro">
  <input type="email" name="email">
  <input type="password" name="password" maxlength="20">
  <input type="date" name="until">
  <input type="checkbox" name="news">
  <input type="checkbox" name="terms" value="yes" checked>
  <input type="radio" name="locale" value="ja" checked><input type="radio" name="locale" value="en">
  <select name="role"><option value="talent">Talent</option><option value="coordinator">Coordinator</option><option value="x" disabled>X</option></select>
  <select name="tenant"><option>  Iwate
    Prefecture </option><option selected>Amami</option></select>
  <select name="tags" multiple><option selected>a</option><option>b</option><option selected>c</option></select>
  <textarea name="note">
line one
line two</textarea>
  <input name="nameless_value" disabled value="gone">
  <fieldset disabled><legend><input name="in_legend" value="kept"></legend><input name="in_fieldset" value="gone"></fieldset>
  <input type="reset" name="reset"><button type="button" name="noop">noop</button>
  <input value="no name">
  <button type="submit" name="go" value="save">Save</button>
  <button type="submit" name="other" value="draft" formaction="/drafts" formmethod="get">Draft</button>
</form>
<input form="search" name="q" value="outside">
<form id="search" action="/search?old=1"><input name="lang" value="ja"></form>
</body></html>"#;

    fn page() -> Page {
        Page::new("http://127.0.0.1:1/signup?lang=en", PAGE)
    }

    fn pairs(form: &Form) -> Vec<(String, String)> {
        form.pairs()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_sends_what_a_browser_sends() {
        let form = page().form("/signup");
        assert_eq!(form.method(), Method::POST);
        assert_eq!(form.action().as_str(), "http://127.0.0.1:1/signup");
        assert_eq!(
            pairs(&form),
            owned(&[
                ("csrf", "tok"),
                ("display_name", "Taro"),
                ("email", ""),
                ("password", ""),
                ("until", ""),
                ("terms", "yes"),
                ("locale", "ja"),
                ("role", "talent"),
                ("tenant", "Amami"),
                ("tags", "a"),
                ("tags", "c"),
                ("note", "line one\r\nline two"),
                ("in_legend", "kept"),
                ("go", "save"),
            ])
        );
        assert_eq!(
            form.field_names(),
            [
                "csrf",
                "display_name",
                "email",
                "password",
                "until",
                "news",
                "terms",
                "locale",
                "role",
                "tenant",
                "tags",
                "note",
                "nameless_value",
                "in_legend",
                "in_fieldset",
                "go",
                "other"
            ]
        );
    }

    #[test]
    fn a_person_fills_in_chooses_and_presses() {
        let mut form = page().form("http://127.0.0.1:1/signup");
        form.set("email", "taro@example.jp")
            .set("locale", "en")
            .set("role", "coordinator")
            .set("until", "2028-02-29")
            .set("note", "one\ntwo")
            .check("news")
            .uncheck("terms")
            .press("other");
        let sent = pairs(&form);
        assert!(sent.contains(&("email".into(), "taro@example.jp".into())));
        assert!(sent.contains(&("locale".into(), "en".into())));
        assert!(!sent.iter().any(|(_, v)| v == "ja"));
        assert!(sent.contains(&("role".into(), "coordinator".into())));
        assert!(sent.contains(&("news".into(), "on".into())));
        assert!(!sent.iter().any(|(n, _)| n == "terms"));
        assert!(sent.contains(&("note".into(), "one\r\ntwo".into())));
        assert!(sent.contains(&("other".into(), "draft".into())));
        assert!(!sent.iter().any(|(n, _)| n == "go"));
        let (method, action) = form.target();
        assert_eq!(
            (method, action.as_str()),
            (Method::GET, "http://127.0.0.1:1/drafts")
        );
    }

    #[test]
    fn forged_and_removed_fields_keep_their_place() {
        let mut form = page().form("/signup");
        form.forge("csrf", "stolen")
            .forge("role", "platform_operator")
            .remove("display_name")
            .retarget("/elsewhere");
        let sent = pairs(&form);
        assert_eq!(sent[0], ("csrf".into(), "stolen".into()));
        assert_eq!(sent[1], ("email".into(), String::new()));
        assert!(sent.contains(&("role".into(), "platform_operator".into())));
        assert_eq!(form.value("csrf").as_deref(), Some("stolen"));
        assert_eq!(form.action().as_str(), "http://127.0.0.1:1/elsewhere");
        // Setting a field again after forging it is a person's value once more.
        form.set("role", "talent");
        assert_eq!(form.value("role").as_deref(), Some("talent"));
    }

    #[test]
    fn forms_are_found_by_action_only_or_first() {
        let page = page();
        assert_eq!(page.forms().len(), 3);
        assert_eq!(page.first_form().action().path(), "/signout");
        let search = page.form("/search?old=1");
        assert_eq!(search.method(), Method::GET);
        assert_eq!(
            pairs(&search),
            owned(&[("q", "outside"), ("lang", "ja")]),
            "a control tied by form= belongs to that form"
        );
        let one = Page::new("http://h/x/y", "<form><input name=a value=1></form>").only_form();
        assert_eq!(
            one.action().as_str(),
            "http://h/x/y",
            "no action: the page itself"
        );
        let based = Page::new(
            "http://h/x/y",
            r#"<base href="/app/"><form action="go"></form>"#,
        )
        .only_form();
        assert_eq!(based.action().as_str(), "http://h/app/go");
    }

    #[test]
    #[should_panic(
        expected = "has no field `token_nam`; its fields: csrf (hidden), display_name (text)"
    )]
    fn an_unknown_field_names_the_fields_there_are() {
        page().form("/signup").set("token_nam", "x");
    }

    #[test]
    #[should_panic(expected = "has no field `nope`")]
    fn forging_an_unknown_field_panics_too() {
        page().form("/signup").forge("nope", "x");
    }

    #[test]
    #[should_panic(
        expected = "has no form that submits to /signin; its forms: POST http://127.0.0.1:1/signout"
    )]
    fn a_missing_form_names_the_forms_there_are() {
        page().form("/signin");
    }

    #[test]
    #[should_panic(expected = "is a hidden field")]
    fn hidden_fields_are_not_typed_into() {
        page().form("/signup").set("csrf", "x");
    }

    #[test]
    #[should_panic(expected = "offers no \"platform_operator\"")]
    fn only_offered_options_are_chosen() {
        page().form("/signup").set("role", "platform_operator");
    }

    #[test]
    #[should_panic(expected = "offers no \"x\"")]
    fn disabled_options_are_not_chosen() {
        page().form("/signup").set("role", "x");
    }

    #[test]
    #[should_panic(expected = "cannot hold \"2027-02-30\"")]
    fn date_fields_hold_only_dates() {
        page().form("/signup").set("until", "2027-02-30");
    }

    #[test]
    #[should_panic(expected = "line break into the one-line field `email`")]
    fn one_line_fields_hold_one_line() {
        page().form("/signup").set("email", "a@b.jp\r\nBcc: c@d.jp");
    }

    #[test]
    #[should_panic(expected = "more than 20 characters")]
    fn maxlength_is_kept() {
        page().form("/signup").set("password", &"x".repeat(21));
    }

    #[test]
    #[should_panic(expected = "is disabled")]
    fn disabled_fields_are_not_typed_into() {
        page().form("/signup").set("in_fieldset", "x");
    }

    #[test]
    fn dates() {
        for ok in ["2027-03-31", "2028-02-29", "2000-02-29", "12345-01-01"] {
            assert!(is_valid_date(ok), "{ok}");
        }
        for bad in [
            "2027-02-30",
            "2100-02-29",
            "2027-13-01",
            "2027-1-01",
            "27-01-01",
            "2027/01/01",
            "0000-01-01",
            "",
        ] {
            assert!(!is_valid_date(bad), "{bad}");
        }
    }
}
