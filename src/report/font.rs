//! The font embedded for chart text.
//!
//! plotters is built without system-font support (no `ttf`/`font-kit`), so
//! bitmap text goes through `ab_glyph` and needs a registered font. DejaVu
//! Sans (`assets/DejaVuSans.ttf`, license in `assets/LICENSE-DejaVu.txt`) is
//! compiled into the binary and registered once under the family name
//! [`FAMILY`], so output never depends on the fonts of the machine (SVG
//! files name the same family and viewers substitute their own sans-serif).

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use super::ReportError;

/// The font family every chart uses.
pub const FAMILY: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process); every
/// drawing function calls this first.
pub fn ensure_registered() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ReportError::Font)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_registers() {
        assert!(ensure_registered().is_ok());
        // Registering twice is harmless.
        assert!(ensure_registered().is_ok());
    }
}
