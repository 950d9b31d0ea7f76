//! Candidate search over the folded search documents: SQLite FTS5 with the trigram tokenizer,
//! PostgreSQL `LIKE` backed by a pg_trgm GIN index. Both find substrings of at least three
//! characters through the index; shorter terms only narrow the candidates, in Rust.

use sqlx::AssertSqlSafe;

use crate::{Db, with_db};

/// Up to `limit` `(customer_id, doc)` pairs whose document contains every term. Terms must be
/// folded already (see `kundo_core::search::search_terms`); at least one must have three
/// characters or more, or nothing is searched.
pub async fn candidates(
    db: &mut Db<'_>,
    terms: &[String],
    limit: i64,
) -> crate::Result<Vec<(i64, String)>> {
    let (long, short): (Vec<&String>, Vec<&String>) =
        terms.iter().partition(|t| t.chars().count() >= 3);
    if long.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String)> = with_db!(db, c, pg => {
        if pg {
            // LIKE patterns are bound values; the statement only varies in how many there are.
            let mut sql = String::from("SELECT customer_id, doc FROM customer_search WHERE ");
            for i in 0..long.len() {
                if i > 0 {
                    sql.push_str(" AND ");
                }
                sql.push_str(&format!("doc LIKE ${}", i + 1));
            }
            sql.push_str(&format!(" LIMIT ${}", long.len() + 1));
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for t in &long {
                q = q.bind(format!("%{}%", escape_like(t)));
            }
            q.bind(limit).fetch_all(&mut *c).await?
        } else {
            // An FTS5 query of quoted phrases: the quotes stop FTS syntax in the input.
            let fts = long.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ");
            sqlx::query_as("SELECT rowid, doc FROM customer_search WHERE customer_search MATCH $1 LIMIT $2")
                .bind(fts)
                .bind(limit)
                .fetch_all(&mut *c)
                .await?
        }
    });
    Ok(rows
        .into_iter()
        .filter(|(_, doc)| short.iter().all(|t| doc.contains(t.as_str())))
        .collect())
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_input_are_literal() {
        assert_eq!(super::escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }
}
