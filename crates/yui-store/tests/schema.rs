//! The SQLite and PostgreSQL migrations define the same schema: the same tables, the
//! same columns, and the same nullability. Types differ by design (`text` against
//! `uuid` or `timestamptz`) and are not compared.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use yui_store::Store;
use yui_testkit::{Backend, TestDb};

/// Table → column → whether the column may be NULL.
type Schema = BTreeMap<String, BTreeMap<String, bool>>;

/// sqlx's bookkeeping, which no migration of ours defines.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// The search indexes differ by design, the one place the schemas do (see
/// migrations/*/0014_search.sql and 0017_project_search.sql): FTS5 virtual tables
/// with their shadow tables on SQLite, arrays with a GIN index on PostgreSQL. Both
/// must exist; their columns are not compared.
const SEARCH_INDEXES: [&str; 2] = ["talent_search", "project_search"];

/// The schema without the search indexes, after checking they are there.
fn without_search_index(mut schema: Schema, backend: &str) -> Schema {
    for index in SEARCH_INDEXES {
        assert!(schema.contains_key(index), "{backend} has no {index}");
        let shadow = format!("{index}_");
        schema.retain(|t, _| t != index && !t.starts_with(&shadow));
    }
    schema
}

async fn sqlite_schema(store: &Store) -> Schema {
    let Store::Sqlite(pool) = store else {
        unreachable!()
    };
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (table,) in tables {
        let columns: Vec<(String, bool, i64)> =
            sqlx::query_as(r#"SELECT name, "notnull", pk FROM pragma_table_info($1)"#)
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap();
        // A primary key column is never NULL, whether or not it says NOT NULL (SQLite
        // fills INTEGER PRIMARY KEY itself; PostgreSQL makes every key column NOT NULL).
        let columns = columns
            .into_iter()
            .map(|(name, not_null, pk)| (name, !not_null && pk == 0))
            .collect();
        schema.insert(table, columns);
    }
    schema
}

async fn postgres_schema(store: &Store) -> Schema {
    let Store::Postgres(pool) = store else {
        unreachable!()
    };
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema: Schema = tables
        .into_iter()
        .map(|(t,)| (t, BTreeMap::new()))
        .collect();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable::text
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, column, nullable) in columns {
        if let Some(columns) = schema.get_mut(&table) {
            columns.insert(column, nullable == "YES");
        }
    }
    schema
}

/// Every way the two schemas differ, one line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let tables: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for table in tables {
        let (Some(lite), Some(pg)) = (sqlite.get(table), postgres.get(table)) else {
            let only = if sqlite.contains_key(table) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            found.push(format!("table {table}: only on {only}"));
            continue;
        };
        let columns: BTreeSet<&String> = lite.keys().chain(pg.keys()).collect();
        for column in columns {
            match (lite.get(column), pg.get(column)) {
                (Some(a), Some(b)) if a != b => {
                    let says = |nullable: &bool| if *nullable { "NULL" } else { "NOT NULL" };
                    found.push(format!(
                        "{table}.{column}: {} on SQLite, {} on PostgreSQL",
                        says(a),
                        says(b)
                    ));
                }
                (Some(_), None) => found.push(format!("{table}.{column}: only on SQLite")),
                (None, Some(_)) => found.push(format!("{table}.{column}: only on PostgreSQL")),
                _ => {}
            }
        }
    }
    found
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    let lite_db = TestDb::create_empty(Backend::Sqlite).await.unwrap();
    let Some(pg_db) = TestDb::create_empty(Backend::Postgres).await else {
        return;
    };
    let lite = lite_db.migrated().await;
    let pg = pg_db.migrated().await;
    let (sqlite, postgres) = (
        without_search_index(sqlite_schema(&lite).await, "SQLite"),
        without_search_index(postgres_schema(&pg).await, "PostgreSQL"),
    );
    assert!(
        sqlite.contains_key("tenants") && sqlite["tenants"].contains_key("slug"),
        "the SQLite schema was read: {sqlite:?}"
    );
    let found = differences(&sqlite, &postgres);
    assert!(
        found.is_empty(),
        "migrations/sqlite and migrations/postgres differ:\n{}",
        found.join("\n")
    );
    lite.close().await;
    pg.close().await;
}

#[test]
fn differences_name_tables_columns_and_nullability() {
    let schema = |tables: &[(&str, &[(&str, bool)])]| -> Schema {
        tables
            .iter()
            .map(|(t, cols)| {
                let cols = cols.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect();
                ((*t).to_owned(), cols)
            })
            .collect()
    };
    let sqlite = schema(&[
        ("a", &[("id", false), ("x", true), ("y", false)]),
        ("b", &[]),
    ]);
    let postgres = schema(&[
        ("a", &[("id", false), ("x", false), ("z", true)]),
        ("c", &[]),
    ]);
    assert_eq!(
        differences(&sqlite, &postgres),
        [
            "a.x: NULL on SQLite, NOT NULL on PostgreSQL",
            "a.y: only on SQLite",
            "a.z: only on PostgreSQL",
            "table b: only on SQLite",
            "table c: only on PostgreSQL",
        ]
    );
    assert!(differences(&sqlite, &sqlite).is_empty());
}
