//! Shared look of every chart: canvas size, font sizes, colours, the page
//! layout (title on top, plot on the left, legend panel on the right) and a
//! few drawing helpers.
//!
//! Everything here is fixed (no dependence on the machine or the data's
//! order), so the same rows always give byte-identical files. Sizes are chosen
//! to stay readable when projected: a 1280×720 canvas, a 36 px title and
//! 24 px or larger labels.

use std::error::Error;

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FAMILY;
use super::ReportError;

/// Canvas size in pixels (width, height) of every chart.
pub const SIZE: (u32, u32) = (1280, 720);
/// Width of the legend panel on the right, pixels.
pub const LEGEND_WIDTH: u32 = 290;
/// Title font size, pixels.
pub const TITLE_PX: u32 = 36;
/// Axis description font size, pixels.
pub const AXIS_DESC_PX: u32 = 28;
/// Tick label font size, pixels.
pub const TICK_PX: u32 = 24;
/// Legend font size, pixels.
pub const LEGEND_PX: u32 = 24;
/// Space below the plot for tick labels and the x description, pixels.
pub const X_LABEL_AREA: u32 = 80;
/// Space left of the plot for tick labels and the y description, pixels.
pub const Y_LABEL_AREA: u32 = 120;

/// Colour of blocks and tips on the final main chain when one colour is used.
pub const MAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
/// Colour of stale blocks and tips.
pub const STALE_COLOR: RGBColor = RGBColor(214, 39, 40);
/// Colour of "other miners" and of block-to-parent links.
pub const OTHER_COLOR: RGBColor = RGBColor(150, 150, 150);
/// Colour of text and axes.
pub const INK: RGBColor = RGBColor(20, 20, 20);

/// Colours for individual miners: distinct from [`STALE_COLOR`] (red) and
/// [`OTHER_COLOR`] (grey).
pub const MINER_PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 139),
    RGBColor(0, 128, 128),
];

/// Twenty distinguishable colours (Tableau 20, dark shades first) for
/// per-wallet lines.
pub const PALETTE_20: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(174, 199, 232),
    RGBColor(255, 187, 120),
    RGBColor(152, 223, 138),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
    RGBColor(247, 182, 210),
    RGBColor(199, 199, 199),
    RGBColor(219, 219, 141),
    RGBColor(158, 218, 229),
];

/// A text style of the chart font at `px` pixels.
pub fn text(px: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, px).into_font()).color(&INK)
}

/// Maps a plotters drawing error of any backend to [`ReportError::Draw`].
pub fn draw_err<E: Error + Send + Sync>(
    chart: &'static str,
) -> impl Fn(DrawingAreaErrorKind<E>) -> ReportError {
    move |e| ReportError::Draw {
        chart,
        message: e.to_string(),
    }
}

/// Fills the page white, writes `title` on top and splits the rest into the
/// plot area (left) and the legend panel (right).
#[allow(clippy::type_complexity)]
pub fn page<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &'static str,
    title: &str,
) -> Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>), ReportError> {
    root.fill(&WHITE).map_err(draw_err(chart))?;
    let body = root
        .margin(12, 0, 0, 0)
        .titled(title, text(TITLE_PX))
        .map_err(draw_err(chart))?;
    let (w, _) = body.dim_in_pixel();
    let (plot, legend) = body.split_horizontally(w.saturating_sub(LEGEND_WIDTH));
    Ok((plot, legend))
}

/// How a legend entry is drawn next to its label.
#[derive(Clone, Copy, Debug)]
pub enum Marker {
    /// A short thick line.
    Line(RGBColor),
    /// A filled dot.
    Dot(RGBColor),
    /// A cross.
    Cross(RGBColor),
    /// A filled box with the given opacity (bands, bars).
    Boxed(RGBColor, f64),
    /// No marker (notes).
    Blank,
}

/// One line of a legend panel.
#[derive(Clone, Debug)]
pub struct LegendEntry {
    /// What the entry stands for.
    pub label: String,
    /// How it is drawn.
    pub marker: Marker,
}

impl LegendEntry {
    /// An entry.
    pub fn new(label: impl Into<String>, marker: Marker) -> Self {
        LegendEntry {
            label: label.into(),
            marker,
        }
    }
}

/// Draws a legend panel: an optional heading, then one marker and label per
/// entry, top to bottom. A `\n` in a label or heading continues it on the
/// next line; rows shrink (never below the font size) when there are many.
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &'static str,
    heading: Option<&str>,
    entries: &[LegendEntry],
) -> Result<(), ReportError> {
    let err = draw_err(chart);
    let left = Pos::new(HPos::Left, VPos::Center);
    let lines = heading.map_or(0, |h| h.lines().count())
        + entries
            .iter()
            .map(|e| e.label.lines().count())
            .sum::<usize>();
    let (_, h) = area.dim_in_pixel();
    let top = 30;
    let fit = (h as i32 - top - 10) / (lines.max(1) as i32);
    let row = fit.clamp(LEGEND_PX as i32 + 2, (LEGEND_PX as i32 * 3) / 2);
    let mut y = top;
    if let Some(heading) = heading {
        for line in heading.lines() {
            area.draw(&Text::new(
                line.to_string(),
                (10, y),
                text(LEGEND_PX).pos(left),
            ))
            .map_err(&err)?;
            y += row;
        }
    }
    for entry in entries {
        let (x0, x1) = (14, 50);
        let xm = (x0 + x1) / 2;
        match entry.marker {
            Marker::Line(c) => {
                area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(4)))
            }
            Marker::Dot(c) => area.draw(&Circle::new((xm, y), 7, c.filled())),
            Marker::Cross(c) => area.draw(&Cross::new((xm, y), 7, c.stroke_width(3))),
            Marker::Boxed(c, alpha) => area.draw(&Rectangle::new(
                [(x0, y - 9), (x1, y + 9)],
                c.mix(alpha).filled(),
            )),
            Marker::Blank => Ok(()),
        }
        .map_err(&err)?;
        let x = if matches!(entry.marker, Marker::Blank) {
            10
        } else {
            60
        };
        for line in entry.label.lines() {
            area.draw(&Text::new(
                line.to_string(),
                (x, y),
                text(LEGEND_PX).pos(left),
            ))
            .map_err(&err)?;
            y += row;
        }
    }
    Ok(())
}

/// Writes `message` in the middle of `area` (charts without data).
pub fn draw_message<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &'static str,
    message: &str,
) -> Result<(), ReportError> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        message.to_string(),
        (w as i32 / 2, h as i32 / 2),
        text(AXIS_DESC_PX + 4)
            .color(&OTHER_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(draw_err(chart))
}

/// `(lo, hi)` widened by `frac` of its span on both sides; a zero span
/// becomes `(lo - 1, hi + 1)` so a range is never empty.
pub fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 {
        (lo - span * frac, hi + span * frac)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

/// Formats an axis value that is meant to be an integer, or nothing for
/// in-between ticks.
pub fn integer_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// Formats an axis number without needless decimals: `1000`, `2.5`,
/// `0.125`.
pub fn number_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The unit a time axis spanning up to `max_s` simulated seconds reads
/// best in: `(seconds per unit, name)` — seconds up to 10 minutes, minutes
/// up to 3 hours, hours up to 3 days, then days (so labels stay short:
/// `18` days, not `1600000` s).
pub fn time_unit(max_s: f64) -> (f64, &'static str) {
    match max_s {
        m if m <= 600.0 => (1.0, "s"),
        m if m <= 3.0 * 3600.0 => (60.0, "min"),
        m if m <= 3.0 * 86_400.0 => (3600.0, "h"),
        _ => (86_400.0, "days"),
    }
}

/// The house style's chart frame: margins and label areas.
pub trait HouseFrame {
    /// Applies the margins and axis label areas every chart uses.
    fn house_frame(&mut self) -> &mut Self;
}

impl<DB: DrawingBackend> HouseFrame for ChartBuilder<'_, '_, DB> {
    fn house_frame(&mut self) -> &mut Self {
        self.margin(15)
            .margin_top(25)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
    }
}

/// The house style's mesh: tick and axis-description fonts, grid colours.
pub trait HouseMesh {
    /// Applies the fonts and grid colours every chart uses.
    fn house_style(&mut self) -> &mut Self;
}

impl<X, Y, DB> HouseMesh for plotters::chart::MeshStyle<'_, '_, X, Y, DB>
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: DrawingBackend,
{
    fn house_style(&mut self) -> &mut Self {
        self.label_style(text(TICK_PX))
            .axis_desc_style(text(AXIS_DESC_PX))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
    }
}

/// Draws an analytic model the house way: a dashed line through `points`
/// with a cross at each one (so a model reads apart from measured data).
pub fn draw_model_points<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart.draw_series(DashedLineSeries::new(
        points.to_vec(),
        14,
        10,
        color.stroke_width(3),
    ))?;
    chart.draw_series(
        points
            .iter()
            .map(|&p| Cross::new(p, 8, color.stroke_width(3))),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_never_gives_an_empty_range() {
        assert_eq!(padded(5.0, 5.0, 0.05), (4.0, 6.0));
        let (lo, hi) = padded(0.0, 100.0, 0.05);
        assert_eq!((lo, hi), (-5.0, 105.0));
    }

    #[test]
    fn integer_labels_only_on_integers() {
        assert_eq!(integer_label(&3.0), "3");
        assert_eq!(integer_label(&2.5), "");
        assert_eq!(integer_label(&-0.0000001), "0");
    }

    #[test]
    fn long_time_axes_read_in_larger_units() {
        assert_eq!(time_unit(90.0), (1.0, "s"));
        assert_eq!(time_unit(7200.0), (60.0, "min"));
        assert_eq!(time_unit(86_400.0), (3600.0, "h"));
        assert_eq!(time_unit(1_600_000.0).1, "days");
    }

    #[test]
    fn number_labels_drop_needless_decimals() {
        assert_eq!(number_label(&1000.0), "1000");
        assert_eq!(number_label(&2.5), "2.5");
        assert_eq!(number_label(&0.125), "0.125");
        assert_eq!(number_label(&0.30000000000000004), "0.3");
    }
}
