//! CSV import and export on both backends: a bad batch changes nothing and names line and
//! column; --skip-invalid imports the rest; an export imports back to the same customers.

use kundo_app::csv_io::ImportOptions;
use kundo_app::{Actor, App};
use kundo_store::testing;

const HEADER: &str = "customer_number,kind,salutation,first_name,last_name,company_name,birth_date,email,phone_mobile,street,house_number,postcode,city,country,card_numbers,consent_email,consent_letter\n";

fn good_rows() -> String {
    let mut s = String::from(HEADER);
    s.push_str("A-1,person,Frau,Anna,Müller,,1980-02-29,anna@example.ch,079 123 45 67,Bahnhofstrasse,12a,8001,Zürich,CH,2900123456785,granted,granted\n");
    s.push_str("A-2,person,Herr,Jörg,Meier,,1975-05-01,joerg@example.de,030 1234567,Hauptstraße,3,01067,Dresden,DE,2900000000018|2900000000025,,denied\n");
    s.push_str("A-3,organization,,,,Schreinerei Huber GmbH,,info@huber.example.ch,,Industriestrasse,7,3000,Bern,CH,,,granted\n");
    s
}

async fn import(app: &App, csv: &[u8], opts: ImportOptions) -> kundo_app::csv_io::ImportReport {
    app.import_customers(&Actor::cli(), csv, opts, &|_, _| {})
        .await
        .unwrap()
}

async fn count(app: &App) -> i64 {
    let mut c = app.store.acquire().await.unwrap();
    kundo_store::customers::count(&mut c.db()).await.unwrap()
}

#[tokio::test]
async fn a_bad_batch_imports_nothing_and_reports_line_and_column() {
    for (store, _d) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let mut csv = good_rows();
        csv.push_str("A-4,person,Frau,Eva,Keller,,1990-13-01,eva@example,079 123,Seestrasse,1,800,Meilen,CH,,,\n");
        csv.push_str("A-5,person,Frau,Ida,Graf,,,,,,,,,,2900123456785,,\n");
        let report = import(&app, csv.as_bytes(), ImportOptions::default()).await;
        assert!(report.aborted, "{db}");
        assert_eq!(report.imported, 0, "{db}");
        assert_eq!(count(&app).await, 0, "{db}");
        let at = |line: u64, column: &str| {
            report
                .errors
                .iter()
                .any(|e| e.line == line && e.column == column)
        };
        assert!(
            at(5, "birth_date") && at(5, "email") && at(5, "phone_mobile") && at(5, "postcode"),
            "{db}: {:?}",
            report.errors
        );
        assert!(
            at(6, "card_numbers"),
            "{db}: duplicate card within the file: {:?}",
            report.errors
        );
        assert_eq!(report.rejected, 2, "{db}");
    }
}

#[tokio::test]
async fn skip_invalid_imports_the_rest_and_hands_back_the_rejects() {
    for (store, _d) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let mut csv = good_rows();
        csv.push_str("A-4,person,Frau,Eva,Keller,,,eva@example,,,,,,,,,\n");
        let report = import(
            &app,
            csv.as_bytes(),
            ImportOptions {
                skip_invalid: true,
                ..Default::default()
            },
        )
        .await;
        assert!(!report.aborted, "{db}");
        assert_eq!((report.imported, report.rejected), (3, 1), "{db}");
        assert_eq!(report.rejected_records[0].0, 5, "{db}");
        assert_eq!(count(&app).await, 3, "{db}");
        let joerg = app.customer("A-2").await.unwrap();
        assert_eq!(joerg.phones[0].number, "+49301234567", "{db}");
        assert_eq!(joerg.addresses[0].postcode, "01067", "{db}");
        assert_eq!(joerg.card_numbers.len(), 2, "{db}");
        // A second import of the same file: every row is a likely duplicate of a stored
        // customer and is reported as such; nothing is written.
        let dup = import(&app, good_rows().as_bytes(), ImportOptions::default()).await;
        assert!(dup.aborted, "{db}");
        let lines: Vec<u64> = dup.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4], "{db}: {:?}", dup.errors);
        assert!(
            dup.errors[0]
                .message
                .contains("likely duplicate (looks like customer A-1"),
            "{db}: {:?}",
            dup.errors
        );
        // Even when duplicates are allowed, the cards clash with the database.
        let again = import(
            &app,
            good_rows().as_bytes(),
            ImportOptions {
                allow_duplicates: true,
                ..Default::default()
            },
        )
        .await;
        assert!(again.aborted, "{db}");
        assert!(
            again
                .errors
                .iter()
                .any(|e| e.line == 2 && e.column == "card_numbers"),
            "{db}: {:?}",
            again.errors
        );
        assert_eq!(count(&app).await, 3, "{db}");
    }
}

/// Issue 18, item 12: a row the CSV reader cannot read is a bad row like any other.
#[tokio::test]
async fn unreadable_rows_are_counted_and_reported_with_their_line() {
    for (store, _d) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let mut csv = good_rows().into_bytes();
        csv.extend_from_slice(b"A-4,person,Frau,Eva\n");
        csv.extend_from_slice(b"A-5,person,Frau,Ida,Gr\xe4f,,,,,,,,,,,,\n");
        let report = import(&app, &csv, ImportOptions::default()).await;
        assert!(report.aborted, "{db}");
        assert_eq!((report.rows, report.rejected), (5, 2), "{db}");
        let errors: Vec<(u64, &str)> = report
            .errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                (5, "unreadable row: it has 4 fields, the header has 17"),
                (6, "unreadable row: it is not valid UTF-8"),
            ],
            "{db}"
        );
        assert_eq!(count(&app).await, 0, "{db}");

        // Skipping them imports the rest and hands them back in the header's shape.
        let report = import(
            &app,
            &csv,
            ImportOptions {
                skip_invalid: true,
                ..Default::default()
            },
        )
        .await;
        assert_eq!((report.imported, report.rejected), (3, 2), "{db}");
        let rejects: Vec<(u64, Vec<&str>)> = report
            .rejected_records
            .iter()
            .map(|(line, rec, _)| (*line, rec.iter().take(5).collect()))
            .collect();
        assert_eq!(
            rejects,
            [
                (5, vec!["A-4", "person", "Frau", "Eva", ""]),
                (6, vec!["A-5", "person", "Frau", "Ida", "Gr\u{FFFD}f"]),
            ],
            "{db}"
        );
        assert!(
            report
                .rejected_records
                .iter()
                .all(|(_, r, _)| r.len() == 17),
            "{db}"
        );
        assert_eq!(count(&app).await, 3, "{db}");
    }
}

/// Issue 18, item 11: the import takes dates and names as strictly as the API.
#[tokio::test]
async fn the_import_refuses_lenient_dates_and_invisible_characters() {
    let (store, _d) = testing::sqlite().await;
    let app = App::new(store);
    let mut csv = String::from(HEADER);
    csv.push_str("B-1,person,Frau,Eva,Keller,,+1980-01-01,,,,,,,,,,\n");
    csv.push_str("B-2,person,Frau,Eva,Koller,,1980-1-1,,,,,,,,,,\n");
    csv.push_str("B-3,person,Frau,Eva,Kel\u{200B}ler,,1980-01-01,,,,,,,,,,\n");
    csv.push_str("B-4,person,Frau,Eva,Kaller,,1980-01-01,,,,,,,,,,\n");
    let report = import(&app, csv.as_bytes(), ImportOptions::default()).await;
    let errors: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        errors,
        [(2, "birth_date"), (3, "birth_date"), (4, "last_name")]
    );
    assert_eq!(report.rejected, 3);
}

#[tokio::test]
async fn unknown_columns_are_refused_by_name() {
    let (store, _d) = testing::sqlite().await;
    let app = App::new(store);
    let report = import(
        &app,
        b"last_name,shoe_size\nMeier,42\n",
        ImportOptions {
            skip_invalid: true,
            ..Default::default()
        },
    )
    .await;
    assert!(report.aborted);
    assert_eq!(report.errors[0].column, "shoe_size");
    assert_eq!(report.errors[0].line, 1);
}

#[tokio::test]
async fn an_export_imports_back_to_the_same_customers() {
    for (store, _d) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        app.generate_demo(300, 11, 12, &|_| {}).await.unwrap();
        let mut out = Vec::new();
        let n = app.export_customers(&mut out, &|_, _| {}).await.unwrap();
        assert_eq!(n, 300, "{db}");
        let (target, _t) = testing::sqlite().await;
        let copy = App::new(target);
        let report = copy
            .import_customers(&Actor::cli(), &out, ImportOptions::default(), &|_, _| {})
            .await
            .unwrap();
        assert!(!report.aborted, "{db}: {:?}", report.errors.first());
        assert_eq!(report.imported, 300, "{db}");
        let mut again = Vec::new();
        copy.export_customers(&mut again, &|_, _| {}).await.unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(again).unwrap(),
            "{db}: export → import → export is stable"
        );
    }
}
