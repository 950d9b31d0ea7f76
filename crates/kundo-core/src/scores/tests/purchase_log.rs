use chrono::NaiveDate;

use super::cdnow_master;
use crate::scores::{
    LineError, PurchaseLogRow, Rft, parse_purchase_log, parse_purchase_log_line, summarize,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn row(customer: &str, on: NaiveDate, amount: i64) -> PurchaseLogRow {
    PurchaseLogRow {
        customer: customer.to_owned(),
        date: on,
        quantity: None,
        amount,
    }
}

fn invalid_column(line: &str) -> usize {
    match parse_purchase_log_line(line) {
        Err(LineError::Invalid { column, .. }) => column,
        other => panic!("{line:?}: expected an invalid line, got {other:?}"),
    }
}

#[test]
fn parses_the_cdnow_layout() {
    let parsed = parse_purchase_log_line(" 00002 19970112  5   77.00\r").expect("valid");
    assert_eq!(
        parsed,
        PurchaseLogRow {
            customer: "00002".to_owned(),
            date: date(1997, 1, 12),
            quantity: Some(5),
            amount: 7_700,
        }
    );
}

#[test]
fn parses_comma_separated_iso_dates_and_three_fields() {
    let parsed = parse_purchase_log_line("K-17, 2024-02-29, 1234.5").expect("valid");
    assert_eq!(parsed, row("K-17", date(2024, 2, 29), 123_450));
    let parsed = parse_purchase_log_line("9,20240301,3,0.05").expect("valid");
    assert_eq!(parsed.quantity, Some(3));
    assert_eq!(parsed.amount, 5);
    assert_eq!(
        parse_purchase_log_line("9 20240301 -12.3")
            .expect("valid")
            .amount,
        -1_230
    );
    assert_eq!(
        parse_purchase_log_line("9 20240301 .5")
            .expect("valid")
            .amount,
        50
    );
    assert_eq!(
        parse_purchase_log_line("9 20240301 7")
            .expect("valid")
            .amount,
        700
    );
}

#[test]
fn tells_headers_and_blank_lines_apart_from_errors() {
    assert_eq!(
        parse_purchase_log_line(" customer_id  date number_of_cds  dollar_value\r"),
        Err(LineError::Header)
    );
    assert_eq!(
        parse_purchase_log_line("customer,date,amount"),
        Err(LineError::Header)
    );
    assert_eq!(parse_purchase_log_line("   \r"), Err(LineError::Blank));
    assert_eq!(parse_purchase_log_line(""), Err(LineError::Blank));
}

#[test]
fn points_at_the_bad_field() {
    assert_eq!(invalid_column(" 00001 19970231  1   11.77"), 8);
    assert_eq!(invalid_column("00001 1997-1-01 11.77"), 7);
    assert_eq!(invalid_column("00001 19970101 1 11,77"), 1); // a comma makes it CSV: 3 fields
    assert_eq!(invalid_column("00001 19970101 x 11.77"), 16);
    assert_eq!(invalid_column("00001 19970101 1 11.775"), 18);
    assert_eq!(invalid_column("00001 19970101 1 1e5"), 18);
    assert_eq!(
        invalid_column("00001 19970101 1 99999999999999999999.00"),
        18
    );
    assert_eq!(invalid_column("00001 19970101"), 1);
    assert_eq!(invalid_column("a,b,c,d,e1"), 1);
    assert_eq!(invalid_column(" , 19970101, 1.00"), 1);
    assert_eq!(invalid_column("ä 19970101 -"), 12);
    assert_eq!(invalid_column("x 1997ä101 1.00"), 3);
}

#[test]
fn whole_log_skips_one_header_and_reports_line_and_column() {
    let text = "customer date amount\n\n1 20240101 1.00\n2 20240102 2.00\n";
    let rows = parse_purchase_log(text).expect("valid");
    assert_eq!(rows.len(), 2);

    let broken = "customer date amount\n1 20240101 1.00\n2 20240132 2.00\n";
    let error = parse_purchase_log(broken).expect_err("bad date");
    assert_eq!((error.line, error.column), (3, 3));
    assert!(
        error.to_string().starts_with("line 3, column 3: "),
        "{error}"
    );

    let second_header = "1 20240101 1.00\ncustomer date amount\n";
    let error = parse_purchase_log(second_header).expect_err("header not at the top");
    assert_eq!((error.line, error.column), (2, 1));
}

#[test]
fn parses_all_of_cdnow_master() {
    let rows = parse_purchase_log(&cdnow_master()).expect("CDNOW_master.txt parses");
    assert_eq!(rows.len(), 69_659);
    assert_eq!(rows[0].customer, "00001");
    assert_eq!(rows[0].amount, 1_177);
    assert!(rows.iter().all(|r| r.quantity.is_some()));
    let customers: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.customer.as_str()).collect();
    assert_eq!(customers.len(), 23_570);
    // The whole 18 months of the log, January 1997 to June 1998.
    let first = rows.iter().map(|r| r.date).min().expect("rows");
    let last = rows.iter().map(|r| r.date).max().expect("rows");
    assert_eq!((first, last), (date(1997, 1, 1), date(1998, 6, 30)));

    // The 39-week calibration window of the literature covers every customer: CDNOW's cohort
    // made its first purchase in the first quarter of 1997.
    let summaries = summarize(&rows, date(1997, 9, 30), 7);
    assert_eq!(summaries.len(), 23_570);
    assert!(summaries.iter().all(|s| s.rft.problem().is_none()));
    let first_customer = &summaries[0];
    assert_eq!(first_customer.customer, "00001");
    assert_eq!(
        first_customer.rft,
        Rft {
            x: 0,
            t_x: 0.0,
            t_cal: 272.0 / 7.0
        }
    );
}

#[test]
fn summarize_counts_purchase_days_in_periods() {
    let rows = vec![
        // Customer A: first day with two receipts, then two more days, one after the window.
        row("A", date(2024, 1, 1), 1_000),
        row("A", date(2024, 1, 1), 500),
        row("A", date(2024, 1, 15), 2_000),
        row("A", date(2024, 1, 29), 3_000),
        row("A", date(2024, 1, 29), 1_000),
        row("A", date(2024, 3, 1), 99_999),
        // Customer B: one day only.
        row("B", date(2024, 1, 22), 700),
        // Customer C: starts after the window.
        row("C", date(2024, 3, 1), 100),
        // Customer D: first purchase on the last day.
        row("D", date(2024, 2, 12), 100),
    ];
    let end = date(2024, 2, 12);
    let summaries = summarize(&rows, end, 7);
    let keys: Vec<&str> = summaries.iter().map(|s| s.customer.as_str()).collect();
    assert_eq!(keys, ["A", "B", "D"]);

    let a = &summaries[0];
    assert_eq!(a.first_purchase, date(2024, 1, 1));
    assert_eq!(
        a.rft,
        Rft {
            x: 2,
            t_x: 4.0,
            t_cal: 6.0
        }
    );
    // Repeat days: 2 000 and 4 000 (the 29th merged), mean 3 000.
    assert_eq!(a.mean_repeat_value, 3_000.0);

    let b = &summaries[1];
    assert_eq!(
        b.rft,
        Rft {
            x: 0,
            t_x: 0.0,
            t_cal: 3.0
        }
    );
    assert_eq!(b.mean_repeat_value, 0.0);

    let d = &summaries[2];
    assert_eq!(
        d.rft,
        Rft {
            x: 0,
            t_x: 0.0,
            t_cal: 0.0
        }
    );

    // In days instead of weeks; a unit below 1 is taken as days.
    let days = summarize(&rows, end, 1);
    assert_eq!(
        days[0].rft,
        Rft {
            x: 2,
            t_x: 28.0,
            t_cal: 42.0
        }
    );
    assert_eq!(summarize(&rows, end, 0), days);
    assert_eq!(summarize(&rows, end, -7), days);
    assert!(summarize(&[], end, 7).is_empty());
}
