//! The messages each template shows: the catalog keys it names as `t.<key>`, with
//! those of the templates it extends and includes.
//!
//! A page's context used to carry the whole catalog (800 messages) as `t`, copied into
//! the context on every request: on the public event page that copy cost more than
//! everything else the page does in the process. Each template now gets the few dozen
//! messages it can show, built once at start-up.

use std::collections::{BTreeSet, HashMap};

use yui_domain::Locale;

use crate::i18n::Catalogs;

/// The catalog keys a template's own source names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Keys {
    /// The keys named as `t.<key>`.
    pub named: BTreeSet<String>,
    /// A key is also computed at render time (`t[name]`): any key may be shown.
    pub any: bool,
}

/// Scans a template for `t.<key>` and `t[…]`. A `t` that is part of a longer name
/// (`ev.t`, `cat.x`) is not the catalog.
pub(crate) fn keys_in(source: &str) -> Keys {
    let mut keys = Keys::default();
    for (i, _) in source.match_indices('t') {
        let before = source[..i].chars().last();
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == '_' || b == '.') {
            continue;
        }
        let rest = &source[i + 1..];
        if rest.starts_with('[') {
            keys.any = true;
            continue;
        }
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let key: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !key.is_empty() {
            keys.named.insert(key);
        }
    }
    keys
}

/// The names of the templates a source extends or includes.
fn parts_of(source: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for tag in ["extends", "include"] {
        for (i, _) in source.match_indices(tag) {
            let rest = source[i + tag.len()..].trim_start();
            if let Some(rest) = rest.strip_prefix('"')
                && let Some(end) = rest.find('"')
            {
                parts.push(&rest[..end]);
            }
        }
    }
    parts
}

/// Each template's messages in both languages, ready to go into a context as `t`.
pub(crate) struct TemplateMessages {
    by_template: HashMap<&'static str, [tera::Value; 2]>,
    all: [tera::Value; 2],
}

impl TemplateMessages {
    pub(crate) fn new(
        sources: impl Iterator<Item = (&'static str, &'static str)>,
        catalogs: &Catalogs,
    ) -> TemplateMessages {
        let sources: HashMap<&'static str, &'static str> = sources.collect();
        let value = |locale: Locale, keys: Option<&BTreeSet<String>>| -> tera::Value {
            let catalog = catalogs.get(locale);
            let map: tera::Map<String, tera::Value> = match keys {
                Some(keys) => keys
                    .iter()
                    .filter_map(|k| catalog.get_key_value(k))
                    .map(|(k, v)| (k.clone(), tera::Value::String(v.clone())))
                    .collect(),
                None => catalog
                    .iter()
                    .map(|(k, v)| (k.clone(), tera::Value::String(v.clone())))
                    .collect(),
            };
            tera::Value::Object(map)
        };
        let by_template = sources
            .keys()
            .map(|&name| {
                let keys = Self::closure(name, &sources);
                let keys = (!keys.any).then_some(&keys.named);
                (name, [value(Locale::Ja, keys), value(Locale::En, keys)])
            })
            .collect();
        TemplateMessages {
            by_template,
            all: [value(Locale::Ja, None), value(Locale::En, None)],
        }
    }

    /// The keys of `name` and of every template it reaches through extends/include.
    fn closure(name: &str, sources: &HashMap<&'static str, &'static str>) -> Keys {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo = vec![name];
        let mut keys = Keys::default();
        while let Some(next) = todo.pop() {
            if !seen.insert(next) {
                continue;
            }
            let Some(source) = sources.get(next) else {
                continue;
            };
            let own = keys_in(source);
            keys.named.extend(own.named);
            keys.any |= own.any;
            todo.extend(parts_of(source));
        }
        keys
    }

    /// The messages `template` shows; the whole catalog for a template not known here.
    pub(crate) fn get(&self, template: &str, locale: Locale) -> &tera::Value {
        let i = match locale {
            Locale::Ja => 0,
            Locale::En => 1,
        };
        self.by_template
            .get(template)
            .map_or(&self.all[i], |v| &v[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_as_the_catalog_and_not_inside_other_names() {
        let k = keys_in(
            "{{ t.site_name }} {{ ev.t.no }} {{ cat.x }}{% if t.a_b1 %}{{t.c|upper}}{% endif %}",
        );
        assert!(!k.any);
        assert_eq!(
            k.named.into_iter().collect::<Vec<_>>(),
            ["a_b1", "c", "site_name"]
        );
        // A computed key, and the named ones beside it still found.
        let k = keys_in("{{ t[heading_key] }} {{ t.site_name }}");
        assert!(k.any);
        assert_eq!(k.named.into_iter().collect::<Vec<_>>(), ["site_name"]);
    }

    #[test]
    fn a_template_gets_the_keys_of_what_it_extends_and_includes() {
        let c = Catalogs::load().unwrap();
        let sources = [
            (
                "base.html",
                "{{ t.site_name }}{% block body %}{% endblock %}",
            ),
            ("part.html", "{{ t.home_title }}"),
            (
                "page.html",
                "{% extends \"base.html\" %}{% block body %}{% include \"part.html\" %}{% endblock %}",
            ),
            ("dyn.html", "{% extends \"base.html\" %}{{ t[k] }}"),
        ];
        let m = TemplateMessages::new(sources.into_iter(), &c);
        let page = m.get("page.html", Locale::Ja).as_object().unwrap();
        assert_eq!(page.len(), 2);
        assert_eq!(page["home_title"], "参加している地域");
        assert!(page.contains_key("site_name"));
        let all = c.get(Locale::En).len();
        assert_eq!(
            m.get("dyn.html", Locale::En).as_object().unwrap().len(),
            all
        );
        assert_eq!(
            m.get("unknown.html", Locale::En).as_object().unwrap().len(),
            all
        );
    }
}
