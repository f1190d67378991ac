//! Decided cases, so `/processing-times` has figures and charts to show: for
//! several forms and offices, at least [`MIN_CASES`] cases each decided
//! within the last six months. Their dates are counted back from the day the
//! demo is loaded (a processing time is about the recent past), so they are
//! inside the window whenever the demo starts. Loaded once, as its own batch.

use chrono::{DateTime, Days, NaiveDate, NaiveTime};
use rand::SeedableRng;

use super::{DemoCase, DemoError, Person, S, bad, row, steps};
use crate::domain::status::transition;
use crate::domain::{CaseStatus, Channel, FormType, Office};
use crate::flows::intake::store::{Filing, write_batch};
use crate::flows::processing_times::policy::MIN_CASES;
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

/// Fictional applicants of the decided cases (no email: notices go by mail).
const PEOPLE: [Person; 6] = [
    person("A099980001", "Lucía", "Fernández Ruiz", "1983-03-12"),
    person("A099980002", "Kwame", "Mensah", "1977-09-28"),
    person("A099980003", "Priya", "Raghunathan", "1990-12-02"),
    person("A099980004", "Dmytro", "Kovalenko", "1986-05-17"),
    person("A099980005", "Mei", "Lin", "1994-08-08"),
    person("A099980006", "José Luis", "Ortega", "1969-02-25"),
];

const fn person(
    a: &'static str,
    given: &'static str,
    family: &'static str,
    dob: &'static str,
) -> Person {
    Person {
        a,
        given,
        family,
        dob,
        street: "200 Decided Way",
        unit: "",
        city: "Lincoln",
        state: "NE",
        zip: "68508",
        email: "",
        protected: false,
    }
}

/// The (form, office) pairs that get figures, and each one's typical
/// processing time in days.
const GROUPS: [(FormType, Office, Channel, u64); 4] = [
    (FormType::I765, Office::Eac, Channel::Paper, 95),
    (FormType::I130, Office::Nbc, Channel::Paper, 240),
    (FormType::N400, Office::Msc, Channel::Paper, 180),
    (FormType::I90, Office::Src, Channel::Paper, 120),
];

/// Per applicant: days added to the group's typical time, and how many days
/// before loading the case was decided (all inside the six-month window).
const SPREAD: [(u64, u64); 6] = [(0, 12), (9, 27), (21, 44), (34, 63), (52, 90), (75, 131)];

/// The last applicant of each group is denied, the others approved.
fn decision(i: usize) -> CaseStatus {
    if i + 1 == SPREAD.len() {
        S::CaseWasDenied
    } else {
        S::CaseWasApproved
    }
}

const _: () = assert!(SPREAD.len() >= MIN_CASES);

fn at(d: NaiveDate, hour: u32) -> i64 {
    d.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN))
        .and_utc()
        .timestamp()
}

pub(super) async fn load(db: &Db, secrets: &Secrets, now: i64) -> Result<(), DemoError> {
    let present: Option<i64> = sqlx::query_scalar(
        "SELECT c.id FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.a_number = $1",
    )
    .bind(PEOPLE[0].a)
    .fetch_optional(db.pool())
    .await
    .map_err(StoreError::from)?;
    if present.is_some() {
        return Ok(());
    }
    let today = DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .date_naive();
    // (line, form, received, decided, decision)
    let mut plan = vec![];
    let mut filings = vec![];
    for (g, (form, office, channel, typical)) in GROUPS.iter().enumerate() {
        for (i, (extra, ago)) in SPREAD.iter().enumerate() {
            let decided = today - Days::new(*ago);
            let received = decided - Days::new(typical + extra);
            let template = DemoCase {
                person: i,
                receipt: None,
                form: *form,
                office: *office,
                channel: *channel,
                received: "2000-01-01",
                path: &[],
                keep_history: true,
                note: "",
            };
            let mut r = row(&PEOPLE[i], &template)?;
            r.received = received;
            let line = (g * SPREAD.len() + i) as u64 + 1;
            filings.push(Filing {
                line,
                row: r,
                receipt: None,
            });
            plan.push((line, *form, received, decided, decision(i)));
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x0000_dec1_de0d);
    let outcome = write_batch(db, secrets, &mut rng, filings, now, 3650).await?;
    if outcome.created.len() != plan.len() {
        return Err(DemoError::Invalid(format!(
            "{} decided demo cases written of {}",
            outcome.created.len(),
            plan.len()
        )));
    }
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    for created in &outcome.created {
        let Some((_, form, received, decided, last)) =
            plan.iter().find(|p| p.0 == created.line).copied()
        else {
            return Err(bad("decided demo line out of range"));
        };
        let path = [
            (S::ReceiptNoticeWasSent, at(received + Days::new(2), 9)),
            (
                S::ActivelyReviewed,
                at(
                    received + Days::new((decided - received).num_days() as u64 / 2),
                    10,
                ),
            ),
            (last, at(decided, 14)),
        ];
        let mut current = CaseStatus::CaseWasReceived;
        for (step, (status, when)) in path.iter().enumerate() {
            transition(form, Some(current), *status).map_err(bad)?;
            sqlx::query(
                "INSERT INTO case_history (case_id, status, at, actor) VALUES ($1, $2, $3, 'demo')",
            )
            .bind(created.case_id)
            .bind(status.code())
            .bind(*when)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let next = path.get(step + 1).map(|(_, t)| *t);
            steps::record_step(&mut tx, created.case_id, *status, *when, next, now).await?;
            current = *status;
        }
        steps::date_receipt_notice(&mut tx, created.case_id, path[0].1).await?;
        sqlx::query("UPDATE cases SET status = $1, status_at = $2, updated_at = $2 WHERE id = $3")
            .bind(current.code())
            .bind(at(decided, 14))
            .bind(created.case_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        // Their letters (receipt, access notice, decision) were mailed long ago.
        sqlx::query(
            "UPDATE notices SET mail_state = 'mailed', mail_state_at = created_at WHERE case_id = $1 AND mail_state = 'queued'",
        )
        .bind(created.case_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    // Publish the figures now rather than at the first housekeeping tick.
    crate::flows::processing_times::store::refresh(db, today, now).await?;
    Ok(())
}
