//! Writes on MySQL/MariaDB, which has no `RETURNING`: write, then read the rows back by key
//! in the same transaction (the repository opens it).

use diesel::dsl::{self, Filter};
use diesel::expression::AsExpression;
use diesel::query_builder::{AsChangeset, IntoUpdateTarget};
use diesel::query_dsl::methods::{ExecuteDsl, FilterDsl};
use diesel::query_dsl::RunQueryDsl;
use diesel::sql_types::{BigInt, Unsigned};
use diesel::{Expression, ExpressionMethods, Insertable, MysqlConnection, QueryResult};

use super::bulk_update::{BulkPatch, BulkUpdate};
use super::key_in::KeyIn;
use super::{ReadOps, WriteOps};
use crate::model::Model;

type Table<M> = <M as Model>::Table;
type Pk<M> = <M as Model>::PrimaryKey;
type Id<M> = <M as Model>::Id;
type PkType<M> = <Pk<M> as Expression>::SqlType;
type ById<M> = Filter<Table<M>, dsl::Eq<Pk<M>, Id<M>>>;
type ByIds<M> = Filter<Table<M>, KeyIn<M>>;

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

impl<'a, M> WriteOps<'a, MysqlConnection> for M
where
    M: Model + ReadOps<MysqlConnection>,
    Pk<M>: ExpressionMethods,
    PkType<M>: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
    Id<M>: AsExpression<PkType<M>>,
    &'a M::New: Insertable<Table<M>>,
    &'a [M::New]: Insertable<Table<M>>,
    dsl::Values<dsl::insert_into<Table<M>>, &'a M::New>: ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<Table<M>>, &'a [M::New]>: ExecuteDsl<MysqlConnection>,
    Table<M>: FilterDsl<dsl::Eq<Pk<M>, Id<M>>> + FilterDsl<KeyIn<M>>,
    ById<M>: IntoUpdateTarget<Table = Table<M>>,
    ByIds<M>: IntoUpdateTarget<Table = Table<M>>,
    &'a M::Update: AsChangeset<Target = Table<M>>,
    dsl::Update<ById<M>, &'a M::Update>:
        diesel::query_builder::AsQuery + ExecuteDsl<MysqlConnection>,
    dsl::Update<ByIds<M>, &'a M::Update>:
        diesel::query_builder::AsQuery + ExecuteDsl<MysqlConnection>,
    M::Update: BulkPatch<diesel::mysql::Mysql>,
    BulkUpdate<'a, M>: ExecuteDsl<MysqlConnection>,
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
        let found = M::find_by_ids(conn, ids.clone())?;
        let ordered = crate::ops::in_key_order(found, &ids);
        if ordered.len() != rows.len() {
            return Err(missing_row());
        }
        Ok(ordered)
    }

    fn update_one(
        conn: &mut MysqlConnection,
        id: Self::Id,
        patch: &'a Self::Update,
    ) -> QueryResult<Option<Self>> {
        let target = M::Table::default().filter(M::PrimaryKey::default().eq(id.clone()));
        diesel::update(target).set(patch).execute(conn)?;
        M::find_by_id(conn, id)
    }

    fn update_ids(
        conn: &mut MysqlConnection,
        ids: Vec<Self::Id>,
        patch: &'a Self::Update,
    ) -> QueryResult<Vec<Self>> {
        let target = M::Table::default().filter(KeyIn::<M>::new(ids.clone()));
        diesel::update(target).set(patch).execute(conn)?;
        M::find_by_ids(conn, ids)
    }

    fn bulk_update_chunk(
        conn: &mut MysqlConnection,
        rows: &'a [(Self::Id, Self::Update)],
    ) -> QueryResult<Vec<Self>> {
        BulkUpdate::<M>::new(rows, false).execute(conn)?;
        M::find_by_ids(conn, rows.iter().map(|(id, _)| id.clone()).collect())
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
