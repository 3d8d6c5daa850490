//! CSV exports for staff (hosts, projects; later members and applications): UTF-8
//! with a byte-order mark, so Excel on a Japanese Windows reads it as UTF-8 rather
//! than Shift_JIS; one row per record; and no cell that a spreadsheet would run as a
//! formula (CSV injection): a cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return gets a leading `'`, which spreadsheets show as text.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::WebError;

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as it is written: neutralised when a spreadsheet would read it as a formula.
pub(crate) fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// A CSV document being written: the header row first, then one row per record.
#[derive(Debug)]
pub(crate) struct CsvDoc {
    writer: ::csv::Writer<Vec<u8>>,
    rows: usize,
}

impl CsvDoc {
    pub(crate) fn new(header: &[&str]) -> Result<CsvDoc, WebError> {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(BOM);
        let mut writer = ::csv::WriterBuilder::new()
            // Excel expects CRLF line ends; quoting as needed keeps line breaks
            // inside a cell in that cell.
            .terminator(::csv::Terminator::CRLF)
            .from_writer(buf);
        writer.write_record(header.iter().map(|h| cell(h).into_owned()))?;
        Ok(CsvDoc { writer, rows: 0 })
    }

    /// Writes one record; every cell is neutralised.
    pub(crate) fn row<I, S>(&mut self, cells: I) -> Result<(), WebError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.writer
            .write_record(cells.into_iter().map(|c| cell(c.as_ref()).into_owned()))?;
        self.rows += 1;
        Ok(())
    }

    /// How many records were written (the header not counted).
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The finished document as a download named `filename` (ASCII).
    pub(crate) fn into_response(self, filename: &str) -> Result<Response, WebError> {
        let body = self
            .writer
            .into_inner()
            .map_err(|e| WebError::Internal(format!("csv: {e}")))?;
        let mut res = body.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        let disposition = format!("attachment; filename=\"{filename}\"");
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition)
                .map_err(|e| WebError::Internal(format!("csv name: {e}")))?,
        );
        // Personal and unpublished data: never kept by a shared cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(res)
    }
}

impl From<::csv::Error> for WebError {
    fn from(e: ::csv::Error) -> Self {
        WebError::Internal(format!("csv: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(cell("佐藤"), "佐藤");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn the_document_starts_with_the_bom_and_quotes_as_needed() {
        let mut doc = CsvDoc::new(&["名前", "概要"]).unwrap();
        doc.row(["かんた, はうす", "一行目\n二行目"]).unwrap();
        doc.row(["=HYPERLINK(\"x\")", "ok"]).unwrap();
        assert_eq!(doc.rows(), 2);
        let bytes = doc.writer.into_inner().unwrap();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "名前,概要\r\n\"かんた, はうす\",\"一行目\n二行目\"\r\n\"'=HYPERLINK(\"\"x\"\")\",ok\r\n"
        );
    }
}
