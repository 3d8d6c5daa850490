//! The QR code on a registrant's confirmation, drawn on the server as inline SVG so
//! the page needs no script and no image request.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG of a QR code encoding `url`, labelled `label` for screen readers (the
/// page prints the URL beside it as its text alternative). `None` if the URL is
/// too long for a QR code.
pub(super) fn svg(url: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML the XML declaration has no place.
    let start = image.find("<svg")?;
    let label: String = label
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '"' | '&'))
        .collect();
    Some(image[start..].replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" "),
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_svg_without_declaration() {
        let s = svg("https://yui.example/t/iwate/checkin/ABCDEFGH", "QR").unwrap();
        assert!(s.starts_with("<svg role=\"img\" aria-label=\"QR\" "), "{s}");
        assert!(s.ends_with("</svg>"), "{s}");
        assert!(!s.contains("<?xml"));
        assert!(svg(&"x".repeat(8000), "QR").is_none());
    }
}
