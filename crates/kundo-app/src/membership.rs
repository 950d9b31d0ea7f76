//! Segment membership of one customer at the time of a sale, for the promotions limited to
//! segments (DOMAIN §2). Ingest asks only about the segments that
//! [`kundo_core::points::segments_to_test`] names for a receipt — those of promotions in force
//! there that could change its points — so a receipt without such a promotion costs nothing
//! here. Each question is a few index probes on the customer's rows
//! ([`kundo_store::segments::is_member`]), asked once per segment, customer and day of a batch.

use std::collections::HashMap;

use chrono::NaiveDate;
use kundo_store::Db;
use kundo_store::segments::{self as store, At};
use serde_json::Value;

use crate::{App, AppError, Result};

/// The answers of one batch, and the evaluation context read once for it.
#[derive(Default)]
pub(crate) struct Memberships {
    at: Option<At>,
    known: HashMap<(i64, i64, NaiveDate), bool>,
}

impl Memberships {
    /// The segments among `segment_ids` that the customer belongs to on `as_of`: a dynamic
    /// segment evaluated for the customer alone, a static list by its latest snapshot. A segment
    /// that is gone or whose definition no longer parses (an attribute deleted since) has no
    /// members: a receipt is never refused for it.
    pub(crate) async fn of(
        &mut self,
        app: &App,
        db: &mut Db<'_>,
        customer_id: i64,
        segment_ids: &[i64],
        as_of: NaiveDate,
    ) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        for &segment_id in segment_ids {
            let key = (segment_id, customer_id, as_of);
            let member = match self.known.get(&key) {
                Some(m) => *m,
                None => {
                    let m = self.ask(app, db, segment_id, customer_id, as_of).await?;
                    self.known.insert(key, m);
                    m
                }
            };
            if member {
                out.push(segment_id);
            }
        }
        Ok(out)
    }

    async fn ask(
        &mut self,
        app: &App,
        db: &mut Db<'_>,
        segment_id: i64,
        customer_id: i64,
        as_of: NaiveDate,
    ) -> Result<bool> {
        let Some(row) = store::get(db, segment_id).await? else {
            return Ok(false);
        };
        if row.kind == "static" {
            return Ok(store::in_latest_snapshot(db, segment_id, customer_id).await?);
        }
        let seg = match serde_json::from_str::<Value>(&row.definition) {
            Ok(def) => match app.parse_segment(&def).await {
                Ok(seg) => Ok(seg),
                Err(AppError::Invalid(errors)) => Err(format!("{errors:?}")),
                Err(other) => return Err(other),
            },
            Err(e) => Err(e.to_string()),
        };
        let seg = match seg {
            Ok(seg) => seg,
            Err(error) => {
                tracing::warn!(
                    segment_id,
                    %error,
                    "a promotion's segment cannot be evaluated; nobody is a member"
                );
                return Ok(false);
            }
        };
        let at = match &mut self.at {
            Some(at) => at,
            empty => empty.insert(At::load(db, as_of).await?),
        };
        at.as_of = as_of;
        Ok(store::is_member(db, &seg, at, customer_id).await?)
    }
}
