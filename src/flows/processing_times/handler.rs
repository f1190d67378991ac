//! `GET /processing-times` (public).

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::chart::{ChartLabels, svg_chart};
use super::store;
use crate::app::{AppState, Chrome, render};
use crate::domain::FormType;
use crate::error::AppError;
use crate::i18n::Lang;

pub struct Row {
    pub form: String,
    pub form_title: String,
    pub office: String,
    pub office_code: String,
    pub p80: u32,
    pub median: u32,
    pub cases: usize,
    pub inquiry: String,
    pub selected: bool,
}

#[derive(askama::Template)]
#[template(path = "flows/processing_times/page.html")]
struct PageTemplate<'a> {
    c: Chrome<'a>,
    rows: Vec<Row>,
    chart: Option<String>,
    chart_heading: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Selection {
    pub form: Option<String>,
    pub office: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Query(sel): Query<Selection>,
) -> Result<Response, AppError> {
    let today = state.now().date_naive();
    let figures = store::all(&state.db, today).await?;
    let m = state.messages;
    let chosen = figures
        .iter()
        .position(|f| Some(&f.form) == sel.form.as_ref() && Some(&f.office) == sel.office.as_ref())
        .or(if figures.is_empty() { None } else { Some(0) });
    let office_name = |code: &str| m.get(lang, &format!("office.{code}.name")).to_string();
    let rows = figures
        .iter()
        .enumerate()
        .map(|(i, f)| Row {
            form_title: FormType::parse(&f.form)
                .map(|t| m.get(lang, &t.title_key()).to_string())
                .unwrap_or_default(),
            form: f.form.clone(),
            office: office_name(&f.office),
            office_code: f.office.clone(),
            p80: f.p80_days,
            median: f.median_days,
            cases: f.cases,
            inquiry: m.long_date(lang, f.inquiry_date),
            selected: Some(i) == chosen,
        })
        .collect();
    let (chart, chart_heading) = match chosen.and_then(|i| figures.get(i)) {
        Some(f) => {
            let office = office_name(&f.office);
            let days = f.p80_days.to_string();
            let cases = f.cases.to_string();
            let median = f.median_days.to_string();
            let args = [
                ("form", f.form.as_str()),
                ("office", office.as_str()),
                ("days", days.as_str()),
                ("cases", cases.as_str()),
                ("median", median.as_str()),
            ];
            let labels = ChartLabels {
                title: m.fmt(lang, "ptimes.chart.title", &args),
                description: m.fmt(lang, "ptimes.chart.desc", &args),
                x_axis: m.get(lang, "ptimes.chart.x").to_string(),
                y_axis: m.get(lang, "ptimes.chart.y").to_string(),
                p80_marker: m.fmt(lang, "ptimes.chart.marker", &args),
            };
            (Some(svg_chart(f, "ptimes-chart", &labels)), labels.title)
        }
        None => (None, String::new()),
    };
    let c = Chrome::new(&state, lang, "/processing-times", "");
    let title = c.t("ptimes.title").to_string();
    Ok(render(&PageTemplate {
        c: c.titled(title),
        rows,
        chart,
        chart_heading,
    }))
}
