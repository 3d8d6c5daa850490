use yui_store::StoreError;

/// Errors of the mail layer. None of them carries a password or a mail body.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A template could not be loaded or rendered; names the template.
    #[error("mail template {name}: {message}")]
    Template { name: String, message: String },
    /// An address that is not a valid mailbox (recipient, sender or default sender).
    #[error("{0}")]
    Address(String),
    /// An attachment whose name, type or size cannot go into a mail.
    #[error("{0}")]
    Attachment(String),
    /// Wrong mail configuration; names the key.
    #[error("{0}")]
    Config(String),
    /// Reading template overrides or writing `.eml` files failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MailError {
    pub(crate) fn template(name: impl Into<String>, e: &tera::Error) -> MailError {
        // tera nests the useful part (the undefined variable, the bad syntax) in
        // the error's sources; the top level only says "failed to render".
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        MailError::Template {
            name: name.into(),
            message,
        }
    }
}
