//! Horizontal bar charts drawn as plain SVG on the server (`kpi_chart.html`): no
//! script, no plotting crate. Each chart carries its data table, which screen
//! readers and printouts read; the drawing only repeats it.

use serde::Serialize;

/// The drawing's width in SVG units; the page scales it to at most the text
/// column, so on a 375 px phone a unit is still most of a pixel and the 15-unit
/// text stays readable.
const WIDTH: u32 = 400;
/// Where bars start. Each label sits on its own line above its bar, so a long
/// label (an English KPI name) never runs off the drawing.
const BARS_X: u32 = 4;
/// The longest bar, leaving room for the value after it.
const BAR_MAX: u32 = 310;
const ROW: u32 = 48;
const LABEL_HEIGHT: u32 = 20;
const BAR_HEIGHT: u32 = 18;

/// One bar: a value and, when set, a target drawn as a mark across it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Bar {
    pub label: String,
    pub value_text: String,
    /// The label's baseline, above the bar.
    pub label_y: u32,
    pub y: u32,
    pub text_y: u32,
    pub width: u32,
    pub value_x: u32,
    pub target_x: Option<u32>,
}

/// One row of the data table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub label: String,
    pub cells: Vec<String>,
}

/// A chart and its table, as `kpi_chart.html` draws them.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Chart {
    pub id: String,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub bars_x: u32,
    pub bars: Vec<Bar>,
    /// The table's column headers: the first names the rows.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Whether any bar has a target (the legend says what the mark is).
    pub has_targets: bool,
}

/// What a bar shows: its label, value and maybe a target, on one scale.
pub(crate) struct Datum {
    pub label: String,
    pub value: u64,
    pub target: Option<u64>,
    /// The value as shown (a percent sign, say); the number itself when `None`.
    pub text: Option<String>,
}

impl Datum {
    pub fn new(label: impl Into<String>, value: u64) -> Datum {
        Datum {
            label: label.into(),
            value,
            target: None,
            text: None,
        }
    }
}

fn scaled(v: u64, max: u64) -> u32 {
    if max == 0 {
        return 0;
    }
    u32::try_from(v.saturating_mul(u64::from(BAR_MAX)) / max).unwrap_or(BAR_MAX)
}

impl Chart {
    /// A chart of `data`, with the table given by `columns` and `rows`.
    pub fn bars(
        id: &str,
        title: String,
        data: Vec<Datum>,
        columns: Vec<String>,
        rows: Vec<Row>,
    ) -> Chart {
        let max = data
            .iter()
            .map(|d| d.value.max(d.target.unwrap_or(0)))
            .max()
            .unwrap_or(0);
        let bars: Vec<Bar> = data
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let top = 6 + ROW * u32::try_from(i).unwrap_or(0);
                let y = top + LABEL_HEIGHT;
                let width = scaled(d.value, max);
                Bar {
                    value_text: d.text.unwrap_or_else(|| d.value.to_string()),
                    label: d.label,
                    label_y: top + 15,
                    y,
                    text_y: y + BAR_HEIGHT - 4,
                    width,
                    value_x: BARS_X + width + 6,
                    target_x: d.target.map(|t| BARS_X + scaled(t, max)),
                }
            })
            .collect();
        Chart {
            id: id.to_owned(),
            title,
            width: WIDTH,
            height: 12 + ROW * u32::try_from(bars.len()).unwrap_or(0),
            bars_x: BARS_X,
            has_targets: bars.iter().any(|b| b.target_x.is_some()),
            bars,
            columns,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_bar_or_target_fills_the_scale() {
        let mut d = Datum::new("a", 5);
        d.target = Some(10);
        let c = Chart::bars("c", "t".into(), vec![d, Datum::new("b", 0)], vec![], vec![]);
        assert_eq!(c.bars[0].width, BAR_MAX / 2);
        assert_eq!(c.bars[0].target_x, Some(BARS_X + BAR_MAX));
        assert_eq!(c.bars[1].width, 0);
        assert!(c.has_targets);
        let empty = Chart::bars("e", "t".into(), vec![Datum::new("z", 0)], vec![], vec![]);
        assert_eq!(empty.bars[0].width, 0);
    }
}
