//! `kundo import customers` reports a row it cannot read as an invalid row, with its line
//! (issue 18, item 12: it used to say "0 of 1 rows are invalid").

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kundo");

#[test]
fn an_unreadable_row_is_counted_and_named_by_its_line() {
    let dir = std::env::temp_dir().join(format!(
        "kundo-import-cli-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("customers.csv");
    std::fs::write(&file, "customer_number,last_name,city\nA-1,Müller\n").unwrap();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["import", "customers"])
        .arg(&file)
        .env("KUNDO_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{}: line 2, column -: unreadable row: it has 2 fields, the header has 3",
                file.display()
            )
            .as_str(),
            "kundo: error: import aborted: 1 of 1 rows are invalid; nothing was imported (use --skip-invalid to import the rest)",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
