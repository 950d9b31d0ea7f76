//! Segments and marketing lists (DOMAIN §5): create, change, read, delete; count, members,
//! preview and CSV export; snapshots that freeze a static list. Dynamic lists are evaluated when
//! used; a static list's members are those of its latest snapshot (one is taken at creation and
//! whenever its definition changes).

use chrono::{DateTime, NaiveDate, Utc};
use kundo_core::error::{Errors, FieldError};
use kundo_core::segment::{self as rules, Segment};
use kundo_store::segments::{self as store, Member, SegmentRow, SnapshotRow};
use kundo_store::{Db, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::customers::Page;
use crate::{Actor, App, AppError, Result};

/// Most members per page and in a preview's sample.
pub const MAX_PAGE: u64 = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    pub name: String,
    pub definition: Value,
    /// `dynamic` (default) or `static`.
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub definition: Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// The latest snapshot (the members of a static list).
    pub snapshot: Option<SnapshotRow>,
}

impl SegmentView {
    fn build(row: SegmentRow, snapshot: Option<SnapshotRow>) -> Self {
        SegmentView {
            id: row.id,
            name: row.name,
            kind: row.kind,
            definition: serde_json::from_str(&row.definition).unwrap_or(Value::Null),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
            snapshot,
        }
    }

    /// The entity tag for `If-Match`.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub count: i64,
    pub sample: Vec<Member>,
}

/// Validated input: name, kind and the parsed definition.
struct Valid {
    name: String,
    kind: &'static str,
    segment: Segment,
    definition: String,
}

fn conflict_or(e: StoreError) -> AppError {
    match e.unique_violation() {
        Some(_) => AppError::Conflict {
            field: "name".into(),
            message: "a segment with this name exists already".into(),
        },
        None => AppError::Store(e),
    }
}

impl App {
    /// Parses a definition against the attributes defined now; errors are named from
    /// `definition`.
    pub async fn parse_segment(&self, definition: &Value) -> Result<Segment> {
        let defs = self.attribute_definitions().await?;
        rules::parse(
            definition,
            "definition",
            rules::Context { attributes: &defs },
        )
        .map_err(AppError::Invalid)
    }

    async fn validate_segment(&self, input: &SegmentInput) -> Result<Valid> {
        let mut e = Errors::default();
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            e.push("name", "must be 1-200 printable characters");
        }
        let kind = match input.kind.as_deref() {
            None | Some("dynamic") => "dynamic",
            Some("static") => "static",
            Some(_) => {
                e.push("kind", "must be dynamic or static");
                "dynamic"
            }
        };
        let segment = match self.parse_segment(&input.definition).await {
            Ok(s) => Some(s),
            Err(AppError::Invalid(errs)) => {
                e.0.extend(errs);
                None
            }
            Err(other) => return Err(other),
        };
        match segment {
            Some(segment) if e.is_empty() => Ok(Valid {
                name,
                kind,
                segment,
                definition: input.definition.to_string(),
            }),
            _ => Err(AppError::Invalid(e.0)),
        }
    }

    /// Creates a segment; a static one gets its first snapshot (members on `as_of`) at once.
    pub async fn create_segment(
        &self,
        actor: &Actor,
        input: SegmentInput,
        as_of: NaiveDate,
    ) -> Result<SegmentView> {
        let v = self.validate_segment(&input).await?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let id = store::insert(
            &mut tx.db(),
            &v.name,
            v.kind,
            &v.definition,
            &actor.name,
            now,
        )
        .await
        .map_err(conflict_or)?;
        let snapshot = if v.kind == "static" {
            Some(store::take_snapshot(&mut tx.db(), id, &v.segment, as_of, now).await?)
        } else {
            None
        };
        let payload =
            json!({"id": id, "name": v.name, "kind": v.kind, "definition": input.definition});
        record(&mut tx.db(), actor, "segment.created", &payload, now).await?;
        let row = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        tx.commit().await?;
        Ok(SegmentView::build(row, snapshot))
    }

    /// Replaces name, kind and definition (`If-Match`: the version read). A static list whose
    /// definition or kind changes gets a new snapshot.
    pub async fn change_segment(
        &self,
        actor: &Actor,
        id: i64,
        input: SegmentInput,
        expected_version: Option<i64>,
        as_of: NaiveDate,
    ) -> Result<SegmentView> {
        let v = self.validate_segment(&input).await?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let old = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        store::update(
            &mut tx.db(),
            id,
            &v.name,
            v.kind,
            &v.definition,
            expected_version,
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Stale => AppError::Stale,
            e => conflict_or(e),
        })?;
        let old_definition: Value = serde_json::from_str(&old.definition).unwrap_or(Value::Null);
        let mut snapshot = store::latest_snapshot(&mut tx.db(), id).await?;
        if v.kind == "static"
            && (old.kind != "static" || old_definition != input.definition || snapshot.is_none())
        {
            snapshot = Some(store::take_snapshot(&mut tx.db(), id, &v.segment, as_of, now).await?);
        }
        let payload = json!({"id": id, "old": {"name": old.name, "kind": old.kind, "definition": old_definition},
            "new": {"name": v.name, "kind": v.kind, "definition": input.definition}});
        record(&mut tx.db(), actor, "segment.changed", &payload, now).await?;
        let row = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        tx.commit().await?;
        Ok(SegmentView::build(row, snapshot))
    }

    pub async fn segment(&self, id: i64) -> Result<SegmentView> {
        let mut conn = self.store.acquire().await?;
        let row = store::get(&mut conn.db(), id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        let snapshot = store::latest_snapshot(&mut conn.db(), id).await?;
        Ok(SegmentView::build(row, snapshot))
    }

    pub async fn segments(&self, after: Option<i64>, limit: i64) -> Result<Page<SegmentView>> {
        let mut conn = self.store.acquire().await?;
        let rows = store::list(&mut conn.db(), after.unwrap_or(0), limit).await?;
        let next_cursor = if rows.len() as i64 == limit {
            rows.last().map(|r| r.id.to_string())
        } else {
            None
        };
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let snapshot = store::latest_snapshot(&mut conn.db(), row.id).await?;
            items.push(SegmentView::build(row, snapshot));
        }
        Ok(Page { items, next_cursor })
    }

    /// Deletes a segment that nothing uses; a segment of a campaign (whose record names it) or
    /// of a points promotion that a sale could still get is kept, and the conflict names them.
    pub async fn delete_segment(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let old = store::lock(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        let campaigns = kundo_store::campaigns::using_segment(&mut tx.db(), id).await?;
        if !campaigns.is_empty() {
            let names: Vec<String> = campaigns
                .iter()
                .map(|(cid, name)| format!("'{name}' (id {cid})"))
                .collect();
            return Err(AppError::Conflict {
                field: "id".into(),
                message: format!(
                    "the segment is used by the campaigns {}; a segment that campaigns use is kept",
                    names.join(", ")
                ),
            });
        }
        let rules = crate::receipts::rules_book(&mut tx.db()).await?;
        let promotions = rules.promotions_ahead_for_segment(id, now);
        if !promotions.is_empty() {
            let names: Vec<String> = promotions
                .iter()
                .map(|p| format!("'{}' (until {})", p.name, p.valid_until.to_rfc3339()))
                .collect();
            return Err(AppError::Conflict {
                field: "id".into(),
                message: format!(
                    "the segment is used by the points promotions {}; it is kept while a sale could get them",
                    names.join(", ")
                ),
            });
        }
        store::delete(&mut tx.db(), id).await?;
        record(
            &mut tx.db(),
            actor,
            "segment.deleted",
            &json!({"id": id, "name": old.name}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Members now (dynamic) or in the latest snapshot (static).
    pub async fn segment_count(&self, id: i64, as_of: NaiveDate) -> Result<i64> {
        let mut tx = self.store.begin_read().await?;
        let source = self.source(&mut tx.db(), id).await?;
        tx.commit().await?;
        Ok(match source {
            Source::Live(seg) => {
                let split = store::Split::for_store(&self.store);
                store::count(&self.store, &seg, as_of, split).await?
            }
            Source::Snapshot(s) => s.map_or(0, |s| s.member_count),
        })
    }

    /// One page of members in customer order; `after` is the cursor of the previous page.
    pub async fn segment_members(
        &self,
        id: i64,
        as_of: NaiveDate,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Page<Member>> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tx = self.store.begin_read().await?;
        let items = self
            .members_page(&mut tx.db(), id, as_of, after.unwrap_or(0), limit)
            .await?;
        tx.commit().await?;
        let next_cursor = if items.len() as u64 == limit {
            items.last().map(|m| m.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn members_page(
        &self,
        db: &mut Db<'_>,
        id: i64,
        as_of: NaiveDate,
        after: i64,
        limit: u64,
    ) -> Result<Vec<Member>> {
        Ok(match self.source(db, id).await? {
            Source::Live(seg) => store::members(db, &seg, as_of, after, limit).await?,
            Source::Snapshot(Some(s)) => store::snapshot_members(db, s.id, after, limit).await?,
            Source::Snapshot(None) => Vec::new(),
        })
    }

    async fn source(&self, db: &mut Db<'_>, id: i64) -> Result<Source> {
        let row = store::get(db, id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        if row.kind == "static" {
            return Ok(Source::Snapshot(store::latest_snapshot(db, id).await?));
        }
        let def: Value = serde_json::from_str(&row.definition)
            .map_err(|e| AppError::Io(format!("segment {id} has an unreadable definition: {e}")))?;
        Ok(Source::Live(self.parse_segment(&def).await?))
    }

    /// Count and first members of a definition that is not saved, in one query.
    pub async fn preview_segment(
        &self,
        definition: &Value,
        as_of: NaiveDate,
        limit: u64,
    ) -> Result<Preview> {
        let seg = self.parse_segment(definition).await?;
        let split = store::Split::for_store(&self.store);
        let (count, sample) =
            store::preview(&self.store, &seg, as_of, limit.min(MAX_PAGE), split).await?;
        Ok(Preview { count, sample })
    }

    /// Freezes the members on `as_of` into a new dated snapshot (for static lists their new
    /// membership; for dynamic ones a record, e.g. of whom a campaign reached).
    pub async fn snapshot_segment(
        &self,
        actor: &Actor,
        id: i64,
        as_of: NaiveDate,
    ) -> Result<SnapshotRow> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let row = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("segment"))?;
        let def: Value = serde_json::from_str(&row.definition).unwrap_or(Value::Null);
        let seg = self.parse_segment(&def).await?;
        let snap = store::take_snapshot(&mut tx.db(), id, &seg, as_of, now).await?;
        record(
            &mut tx.db(),
            actor,
            "segment.snapshot_taken",
            &json!({"id": id, "snapshot_id": snap.id, "member_count": snap.member_count, "as_of": as_of}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(snap)
    }

    /// Writes the members as CSV (see [`EXPORT_COLUMNS`]), read in one snapshot of the
    /// database; returns the number of rows.
    pub async fn export_segment<W: std::io::Write>(
        &self,
        id: i64,
        as_of: NaiveDate,
        out: W,
    ) -> Result<u64> {
        let io = |e: csv::Error| AppError::Io(e.to_string());
        let mut w = csv::Writer::from_writer(out);
        w.write_record(EXPORT_COLUMNS).map_err(io)?;
        let mut tx = self.store.begin_read().await?;
        let source = self.source(&mut tx.db(), id).await?;
        let mut after = 0;
        let mut written = 0;
        loop {
            let page = match &source {
                Source::Live(seg) => store::members(&mut tx.db(), seg, as_of, after, 1000).await?,
                Source::Snapshot(Some(s)) => {
                    store::snapshot_members(&mut tx.db(), s.id, after, 1000).await?
                }
                Source::Snapshot(None) => Vec::new(),
            };
            let Some(last) = page.last().map(|m| m.id) else {
                break;
            };
            for m in page {
                w.write_record([
                    m.customer_number.as_str(),
                    m.salutation.as_deref().unwrap_or(""),
                    m.first_name.as_deref().unwrap_or(""),
                    m.last_name.as_deref().unwrap_or(""),
                    m.company_name.as_deref().unwrap_or(""),
                    m.email.as_deref().unwrap_or(""),
                    m.postcode.as_deref().unwrap_or(""),
                    m.city.as_deref().unwrap_or(""),
                ])
                .map_err(io)?;
                written += 1;
            }
            after = last;
        }
        tx.commit().await?;
        w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        Ok(written)
    }
}

/// The columns of a member export, in order.
pub const EXPORT_COLUMNS: [&str; 8] = [
    "customer_number",
    "salutation",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "postcode",
    "city",
];

enum Source {
    Live(Segment),
    Snapshot(Option<SnapshotRow>),
}

async fn record(
    db: &mut Db<'_>,
    actor: &Actor,
    action: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<()> {
    kundo_store::audit::record(db, &actor.name, action, None, payload, now).await?;
    kundo_store::audit::emit(db, action, None, payload, now).await?;
    Ok(())
}

/// A field error for a bad `as_of` date (query parameters, CLI options).
pub fn parse_as_of(s: &str) -> std::result::Result<NaiveDate, FieldError> {
    kundo_core::dates::parse_iso_date(s).map_err(|m| FieldError::new("as_of", m))
}
