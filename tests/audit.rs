//! The tamper-evident audit log: a hash chain that `casegate audit verify`
//! walks, finding a single altered, removed or truncated entry.

mod common;

use casegate::audit::{self, Event, Verification};
use common::{Options, spawn_with};

fn ev(i: i64) -> Event<'static> {
    Event {
        at: 1_800_000_000 + i,
        actor: "system",
        action: "test.event",
        subject: None,
        ip: Some("10.0.0.1".into()),
        detail: format!("n={i}"),
    }
}

#[tokio::test]
async fn an_untouched_log_verifies_and_one_altered_row_is_found() {
    let app = spawn_with(Options {
        demo: false,
        ..Options::default()
    })
    .await;
    for i in 0..20 {
        audit::record(&app.db, &ev(i)).await.unwrap();
    }
    assert_eq!(
        audit::verify(&app.db).await.unwrap(),
        Verification::Intact { entries: 20 }
    );
    // The CLI agrees.
    let bin = env!("CARGO_BIN_EXE_casegate");
    let run = || {
        std::process::Command::new(bin)
            .args(["audit", "verify"])
            .env("DATABASE_URL", &app.config.database_url)
            .env("CASEGATE_DATA_DIR", &app.data_dir)
            .env("CASEGATE_MASTER_KEY", common::MASTER_KEY)
            .env("CASEGATE_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 20 entries"));
    // Someone edits entry 7.
    sqlx::query("UPDATE audit_events SET detail = 'n=999' WHERE seq = 7")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&app.db).await.unwrap(),
        Verification::Broken {
            seq: 7,
            reason: "entry altered"
        }
    );
    let out = run();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN at entry 7"));
    sqlx::query("UPDATE audit_events SET detail = 'n=6' WHERE seq = 7")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert!(matches!(
        audit::verify(&app.db).await.unwrap(),
        Verification::Intact { .. }
    ));
    // Someone deletes entry 12, or the last entry.
    sqlx::query("DELETE FROM audit_events WHERE seq = 12")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&app.db).await.unwrap(),
        Verification::Broken {
            seq: 12,
            reason: "entry missing"
        }
    );
}

#[tokio::test]
async fn truncating_the_tail_is_found_and_concurrent_appends_keep_one_chain() {
    let app = spawn_with(Options {
        demo: false,
        ..Options::default()
    })
    .await;
    let mut tasks = vec![];
    for i in 0..30 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            audit::record(&db, &ev(i)).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        audit::verify(&app.db).await.unwrap(),
        Verification::Intact { entries: 30 }
    );
    sqlx::query("DELETE FROM audit_events WHERE seq = 30")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert!(matches!(
        audit::verify(&app.db).await.unwrap(),
        Verification::Broken { seq: 30, .. }
    ));
}
