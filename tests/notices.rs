//! Notices and the mail-room export: real PDFs, deterministic, read back with
//! poppler's pdftotext.

mod common;

use casegate::i18n::Messages;
use casegate::notices::render::{LetterContext, render};
use casegate::notices::{export, store};
use common::spawn_app;

fn pdftotext(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is required; scripts/test installs it");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn letters_export_writes_pdfs_and_marks_them_printed() {
    let app = spawn_app().await;
    let dir = app.data_dir.join("print");
    let ctx = LetterContext {
        msgs: Messages::global(),
        agency: "Example Immigration Services Agency",
        public_url: "https://portal.example.org",
        tz: chrono_tz::America::New_York,
    };
    let queued = store::count_queued(&app.db).await.unwrap();
    assert_eq!(queued, 22);
    let n = export::export(
        &app.db,
        &app.secrets,
        &ctx,
        &dir,
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    assert_eq!(n as i64, queued);
    assert_eq!(store::count_queued(&app.db).await.unwrap(), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notices WHERE mail_state = 'printed'")
            .await,
        22
    );
    // A second export finds nothing new.
    assert_eq!(
        export::export(&app.db, &app.secrets, &ctx, &dir, 0)
            .await
            .unwrap(),
        0
    );

    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 22);
    let access = files
        .iter()
        .find(|p| {
            p.to_string_lossy()
                .ends_with("access-notice-EAC9999103403.pdf")
        })
        .unwrap();
    let text = pdftotext(access);
    for needle in [
        "Account Access Notice",
        "EAC9999103403",
        "DEM0-C0DE-0001",
        "MARÍA JOSÉ NÚÑEZ GARCÍA",
        "123 MAIN ST APT 4",
        "SPRINGFIELD IL 62701",
        "I-130, Petition for Alien Relative",
        "https://portal.example.org",
        "Never share this code",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let receipt = files
        .iter()
        .find(|p| p.to_string_lossy().ends_with("receipt-LIN9999106498.pdf"))
        .unwrap();
    let text = pdftotext(receipt);
    assert!(text.contains("Receipt Notice") && text.contains("LIN9999106498"));
    assert!(
        text.contains("NGUYỄN THỊ LAN") || text.contains("NGUYEN THI LAN"),
        "{text}"
    );
    assert!(!text.contains("DEM0-C0DE"), "receipt notices carry no code");
}

#[tokio::test]
async fn rendering_is_deterministic_and_mailed_letters_lose_their_code() {
    let app = spawn_app().await;
    let ctx = LetterContext {
        msgs: Messages::global(),
        agency: "Agency",
        public_url: "http://x",
        tz: chrono_tz::America::New_York,
    };
    let id: i64 = sqlx::query_scalar(
        "SELECT id FROM notices WHERE kind = 'access_notice' AND receipt_number = 'EAC9999103403'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let n = store::get(&app.db, id).await.unwrap().unwrap();
    let code = export::unseal_code(&n, &app.secrets);
    assert_eq!(
        code.as_ref().map(|c| c.grouped()),
        Some("DEM0-C0DE-0001".to_string())
    );
    let a = render(&n, code.as_ref(), &ctx);
    let b = render(&n, code.as_ref(), &ctx);
    assert_eq!(a, b);
    assert!(a.starts_with(b"%PDF-"));

    use casegate::notices::MailState;
    assert!(
        !store::set_mail_state(app.db.pool(), id, MailState::Queued, MailState::Mailed, 1)
            .await
            .unwrap()
    );
    assert!(
        store::set_mail_state(app.db.pool(), id, MailState::Queued, MailState::Printed, 1)
            .await
            .unwrap()
    );
    assert!(
        !store::set_mail_state(app.db.pool(), id, MailState::Queued, MailState::Printed, 1)
            .await
            .unwrap(),
        "only one clerk wins"
    );
    assert!(
        store::set_mail_state(app.db.pool(), id, MailState::Printed, MailState::Mailed, 2)
            .await
            .unwrap()
    );
    let n = store::get(&app.db, id).await.unwrap().unwrap();
    assert!(n.code_sealed.is_none());
    assert!(export::unseal_code(&n, &app.secrets).is_none());
}
