//! Writes on MySQL/MariaDB, which has no `RETURNING`: write, then read the rows back by key
//! in the same transaction (the repository opens it).

use chrono::NaiveDateTime;
use diesel::dsl::{self, Filter};
use diesel::query_builder::{AsChangeset, IntoUpdateTarget};
use diesel::query_dsl::methods::{ExecuteDsl, FilterDsl};
use diesel::query_dsl::RunQueryDsl;
use diesel::sql_types::{BigInt, Unsigned};
use diesel::{Insertable, MysqlConnection, QueryResult};

use super::bulk_update::{BulkPatch, BulkUpdate};
use super::set::{SetValue, SetWhere};
use super::upsert::{ConflictClause, UpsertStatement, Upserts};
use super::{ReadOps, WriteOps, KEYS_PER_STATEMENT};
use crate::model::Model;
use crate::scope::{Keys, Scope, Where};

type Table<M> = <M as Model>::Table;
type Scoped<M> = Filter<Table<M>, Where<M>>;

#[derive(diesel::QueryableByName)]
struct AutoIncrement {
    #[diesel(sql_type = Unsigned<BigInt>)]
    first_id: u64,
    #[diesel(sql_type = BigInt)]
    lock_mode: i64,
    #[diesel(sql_type = BigInt)]
    increment: i64,
}

fn missing_row() -> diesel::result::Error {
    // The row we just wrote is gone: only a concurrent delete between our two statements
    // can do this, and the repository reports it as not found.
    diesel::result::Error::NotFound
}

/// The keys of the rows `predicate` matches now, locked until the transaction ends, so the
/// write that follows changes exactly these rows (MySQL reports neither which rows an UPDATE
/// matched nor their values). A plain read would answer from the transaction's snapshot,
/// which may still show a row another connection has since soft-deleted or moved out of the
/// scope.
fn locked_keys<M: Model + ReadOps<MysqlConnection>>(
    conn: &mut MysqlConnection,
    predicate: Where<M>,
) -> QueryResult<Vec<M::Id>> {
    Ok(M::lock_where(conn, predicate)?
        .iter()
        .map(Model::id)
        .collect())
}

/// The keys a write addresses: those given, when nothing else restricts the rows, otherwise
/// the rows matching now (locked; a filter may match any number, so writes and read-backs
/// address them [`KEYS_PER_STATEMENT`] at a time).
fn target_keys<M: Model + ReadOps<MysqlConnection>>(
    conn: &mut MysqlConnection,
    predicate: Where<M>,
) -> QueryResult<Vec<M::Id>> {
    match (predicate.has_conditions(), predicate.keys()) {
        (false, Keys::One(id)) => Ok(vec![id.clone()]),
        (false, Keys::Many(ids)) => Ok(ids.clone()),
        _ => locked_keys(conn, predicate),
    }
}

/// The rows with keys `ids` after a write, by key. A locking read returns the latest
/// versions; a plain one would show the snapshot for rows the write did not change.
fn read_back<M: Model + ReadOps<MysqlConnection>>(
    conn: &mut MysqlConnection,
    ids: Vec<M::Id>,
) -> QueryResult<Vec<M>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(KEYS_PER_STATEMENT) {
        rows.extend(M::lock_where(
            conn,
            Where::new(Scope::default(), Keys::Many(chunk.to_vec())),
        )?);
    }
    Ok(rows)
}

impl<'a, M> WriteOps<'a, MysqlConnection> for M
where
    M: Model + ReadOps<MysqlConnection>,
    &'a M::New: Insertable<Table<M>>,
    &'a [M::New]: Insertable<Table<M>>,
    M: Insertable<Table<M>>,
    Vec<M::New>: Insertable<Table<M>>,
    M::Update: AsChangeset<Target = Table<M>>,
    dsl::Values<dsl::insert_into<Table<M>>, Vec<M::New>>: ExecuteDsl<MysqlConnection>,
    dsl::Update<Scoped<M>, M::Update>: diesel::query_builder::AsQuery + ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<Table<M>>, &'a M::New>: ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<Table<M>>, &'a [M::New]>: ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<Table<M>>, M>: ExecuteDsl<MysqlConnection>,
    Table<M>: FilterDsl<Where<M>>,
    Scoped<M>: IntoUpdateTarget<Table = Table<M>>,
    &'a M::Update: AsChangeset<Target = Table<M>>,
    dsl::Update<Scoped<M>, &'a M::Update>:
        diesel::query_builder::AsQuery + ExecuteDsl<MysqlConnection>,
    M::Update: BulkPatch<diesel::mysql::Mysql>,
    BulkUpdate<'a, M>: ExecuteDsl<MysqlConnection>,
    SetWhere<M>: ExecuteDsl<MysqlConnection>,
    UpsertStatement<dsl::Values<dsl::insert_into<Table<M>>, &'a [M::New]>, M>:
        ExecuteDsl<MysqlConnection>,
    UpsertStatement<dsl::Values<dsl::insert_into<Table<M>>, Vec<M::New>>, M>:
        ExecuteDsl<MysqlConnection>,
{
    fn insert_one(conn: &mut MysqlConnection, new: &'a Self::New) -> QueryResult<Self> {
        diesel::insert_into(M::Table::default())
            .values(new)
            .execute(conn)?;
        let id = match M::new_id(new) {
            Some(id) => id,
            None => {
                let first = auto_increment(conn)?.first_id;
                M::id_from_insert_id(first).ok_or(diesel::result::Error::NotFound)?
            }
        };
        M::find_by_id(conn, id)?.ok_or_else(missing_row)
    }

    fn insert_chunk(conn: &mut MysqlConnection, rows: &'a [Self::New]) -> QueryResult<Vec<Self>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let supplied: Option<Vec<Self::Id>> = rows.iter().map(M::new_id).collect();
        let ids = match supplied {
            Some(ids) => {
                diesel::insert_into(M::Table::default())
                    .values(rows)
                    .execute(conn)?;
                ids
            }
            None => {
                // Keys of a multi-row INSERT are consecutive (by the increment) unless InnoDB
                // interleaves them (lock mode 2); then insert one row at a time.
                let before = auto_increment(conn)?;
                if before.lock_mode == 2 {
                    return rows.iter().map(|row| Self::insert_one(conn, row)).collect();
                }
                diesel::insert_into(M::Table::default())
                    .values(rows)
                    .execute(conn)?;
                let after = auto_increment(conn)?;
                let step = after.increment.max(1) as u64;
                (0..rows.len() as u64)
                    .map(|i| M::id_from_insert_id(after.first_id + i * step))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(diesel::result::Error::NotFound)?
            }
        };
        let found = M::load_where(
            conn,
            Where::new(Scope::default(), Keys::Many(ids.clone())),
            None,
        )?;
        let ordered = crate::ops::in_key_order(found, &ids);
        if ordered.len() != rows.len() {
            return Err(missing_row());
        }
        Ok(ordered)
    }

    fn insert_owned(conn: &mut MysqlConnection, rows: Vec<Self::New>) -> QueryResult<Vec<Self>> {
        // Owned rows only come from plugins; insert them one by one to learn each key.
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            let supplied = M::new_id(&row);
            diesel::insert_into(M::Table::default())
                .values(vec![row])
                .execute(conn)?;
            let id = match supplied {
                Some(id) => id,
                None => M::id_from_insert_id(auto_increment(conn)?.first_id)
                    .ok_or(diesel::result::Error::NotFound)?,
            };
            stored.push(M::find_by_id(conn, id)?.ok_or_else(missing_row)?);
        }
        Ok(stored)
    }

    fn update_owned(
        conn: &mut MysqlConnection,
        predicate: Where<Self>,
        patch: Self::Update,
    ) -> QueryResult<Vec<Self>> {
        let scope = predicate.scope().clone();
        let ids = target_keys::<M>(conn, predicate)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        for chunk in ids.chunks(KEYS_PER_STATEMENT) {
            let target = Where::new(scope.clone(), Keys::Many(chunk.to_vec()));
            diesel::update(M::Table::default().filter(target))
                .set(patch.clone())
                .execute(conn)?;
        }
        read_back(conn, ids)
    }

    fn insert_row(conn: &mut MysqlConnection, row: Self) -> QueryResult<usize> {
        diesel::insert_into(M::Table::default())
            .values(row)
            .execute(conn)
    }

    fn update_where(
        conn: &mut MysqlConnection,
        predicate: Where<Self>,
        patch: &'a Self::Update,
    ) -> QueryResult<Vec<Self>> {
        let scope = predicate.scope().clone();
        let ids = target_keys::<M>(conn, predicate)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        for chunk in ids.chunks(KEYS_PER_STATEMENT) {
            let target = Where::new(scope.clone(), Keys::Many(chunk.to_vec()));
            diesel::update(M::Table::default().filter(target))
                .set(patch)
                .execute(conn)?;
        }
        read_back(conn, ids)
    }

    fn bulk_update_chunk(
        conn: &mut MysqlConnection,
        rows: &'a [(Self::Id, Self::Update)],
        scope: &Scope,
        at: Option<NaiveDateTime>,
    ) -> QueryResult<Vec<Self>> {
        let ids: Vec<Self::Id> = rows.iter().map(|(id, _)| id.clone()).collect();
        let visible = target_keys::<M>(conn, Where::new(scope.clone(), Keys::Many(ids)))?;
        if visible.is_empty() {
            return Ok(Vec::new());
        }
        BulkUpdate::<M>::new(rows, scope, at, false).execute(conn)?;
        read_back(conn, visible)
    }

    fn set_where(
        conn: &mut MysqlConnection,
        assignments: Vec<(&'static str, SetValue)>,
        predicate: Where<Self>,
    ) -> QueryResult<Vec<Self>> {
        // The predicate usually tests a column being assigned (deleted_at), so find the rows
        // first (locked) and address them by key: the read-back cannot re-apply it.
        let scope = predicate.scope().clone();
        let ids = locked_keys::<M>(conn, predicate)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        for chunk in ids.chunks(KEYS_PER_STATEMENT) {
            let target = Where::new(scope.clone(), Keys::Many(chunk.to_vec()));
            SetWhere::new(assignments.clone(), target, false).execute(conn)?;
        }
        read_back(conn, ids)
    }

    fn upsert_chunk(
        conn: &mut MysqlConnection,
        rows: &'a [Self::New],
        clause: ConflictClause,
        matching: Where<Self>,
    ) -> QueryResult<Upserts<Self>> {
        let insert = diesel::insert_into(M::Table::default()).values(rows);
        UpsertStatement::<_, M>::new(insert, clause, false).execute(conn)?;
        M::lock_where(conn, matching).map(Upserts::unflagged)
    }

    fn upsert_owned(
        conn: &mut MysqlConnection,
        rows: Vec<Self::New>,
        clause: ConflictClause,
        matching: Where<Self>,
    ) -> QueryResult<Upserts<Self>> {
        let insert = diesel::insert_into(M::Table::default()).values(rows);
        UpsertStatement::<_, M>::new(insert, clause, false).execute(conn)?;
        M::lock_where(conn, matching).map(Upserts::unflagged)
    }
}

fn auto_increment(conn: &mut MysqlConnection) -> QueryResult<AutoIncrement> {
    diesel::sql_query(
        "SELECT LAST_INSERT_ID() AS first_id, \
         CAST(@@innodb_autoinc_lock_mode AS SIGNED) AS lock_mode, \
         CAST(@@auto_increment_increment AS SIGNED) AS increment",
    )
    .get_result(conn)
}
